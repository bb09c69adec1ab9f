"""Memory: glibc's allocator thresholds, and the admission check a command runs before it starts.

Keep glibc from returning NumPy's temporaries to the OS after every operation.

A step over 10,000 balls makes temporaries of 80–160 kB. glibc serves blocks above its mmap
threshold (128 kB at start) with mmap and trims the heap top above its trim threshold, so
every temporary can cost fresh page faults: measured here, `0.9*m + 0.1*g` on (10000, 2)
took 225 µs instead of 20 µs, and a whole simulation ran 4–5× slower. Raising the two
thresholds (to the ceiling glibc's own dynamic threshold would reach, 32 MB) keeps those
blocks in the heap for reuse, while arrays the size of a trajectory are still mmapped and
given back when freed. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.scene import Scene

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 32 * 1024 * 1024
_done = False


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if it took effect."""
    global _done
    if _done:
        return True
    _done = True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, _THRESHOLD) == 1
    return mallopt(_M_TRIM_THRESHOLD, 2 * _THRESHOLD) == 1 and ok


# ------------------------------------------------------------------- admission check
#
# A command's peak memory is, to a good approximation, a fixed part (the interpreter, NumPy,
# sympy, the compiled surface), the trajectory's arrays (BALL_STEP_BYTES per ball per step,
# the `Trajectory` layout), a part per ball (the simulation's per-ball arrays and the ball's
# label as a Python string), and what the output format adds. The check runs before anything
# is simulated, from the scene alone, so an oversized command fails in a moment, in one line.

MEMORY_LIMIT = 1_000_000_000  # bytes of peak RSS that any accepted command stays under
# The coefficients are upper bounds of what `studio bench --only trace` measures (a child's
# peak RSS): the fixed part was 66 MiB, a ball-step 40.5 bytes, a ball at most 350 bytes.
BASE_BYTES = 100_000_000  # the interpreter with NumPy and sympy loaded, and a surface
BALL_STEP_BYTES = 41  # positions (2), loss, grad_norm, lr: float64 each, per ball per step
# The simulation's per-ball state, masks and temporaries, and a mini-batch run's row order
# (batch × data rows of int64); the label is counted apart, by its characters.
BALL_BYTES = 600
STR_BYTES = 57  # a str object's header and its slot in the labels tuple
NPZ_BUFFER_BYTES = 64_000_000  # NumPy's 16 MB write chunks, and zlib's state with --compress
# The longest suffix a ball's label gets after its run's: " @ (-1.235e+300, -1.235e+300)"
# for a run with several starts, then " worker 16" for an EASGD worker.
_START_SUFFIX = 29
_WORKER_SUFFIX = 10


class MemoryLimitError(StudioError):
    """A command whose peak memory would pass MEMORY_LIMIT (refused before it starts)."""


def scene_balls(scene: Scene) -> tuple[int, int, int]:
    """(balls, characters of the longest ball label, bytes per character of the widest
    label as a Python str: 1, 2 or 4) that simulating `scene` makes."""
    from studio.engine.registry import run_label, validate_hyper

    n = 0
    longest = 0
    width = 1
    for run in scene.runs:
        if not run.enabled:
            continue
        starts = run.grid[0] * run.grid[1] if run.grid is not None else len(run.starts)
        workers = (
            int(validate_hyper(run.optimizer, run.hyper)["workers"])
            if run.optimizer == "easgd"
            else 0
        )
        n += starts * (workers + 1)
        label = run_label(run)
        chars = (
            len(label) + (_START_SUFFIX if starts > 1 else 0) + (_WORKER_SUFFIX if workers else 0)
        )
        longest = max(longest, chars)
        top = max(map(ord, label), default=0)
        width = max(width, 1 if top < 0x100 else 2 if top < 0x10000 else 4)
    return n, longest, width


def trace_bytes(n_balls: int, steps: int, label_chars: int, fmt: str, char_bytes: int = 4) -> int:
    """Estimated peak bytes of `studio trace` writing `fmt` (".csv", ".json", ".npz"); the
    CSV and JSON writers stream, so they add only a chunk of rows (in BASE_BYTES)."""
    total = BASE_BYTES + n_balls * (steps + 1) * BALL_STEP_BYTES
    total += n_balls * (BALL_BYTES + STR_BYTES + char_bytes * label_chars)
    if fmt == ".npz":
        # NumPy stores the labels as one fixed-width UCS-4 array: 4 bytes × the longest
        # (and the optimizer keys, at most 32 characters, likewise).
        total += NPZ_BUFFER_BYTES + n_balls * 4 * (label_chars + 32)
    return total


def scene_trace_bytes(scene: Scene, fmt: str) -> tuple[int, int]:
    """(balls, estimated peak bytes) of `studio trace` of `scene` to `fmt`."""
    from studio.engine.registry import validate_hyper

    n, chars, width = scene_balls(scene)
    network = scene.surface.network
    if network is not None:
        # One ball a run, and beside its plane coordinates every step's weights (D floats),
        # validation loss and accuracy: the network lab works on them a block at a time.
        n = sum(run_balls(scene))
    need = trace_bytes(n, scene.steps, chars, fmt, width)
    if network is not None:
        need += n * (scene.steps + 1) * (8 * network.n_params + 16)
    elif any(
        r.enabled and validate_hyper(r.optimizer, r.hyper)["stop_on"] == "val_loss"
        for r in scene.runs
    ):
        need += n * (scene.steps + 1) * 8  # the val_loss column of a data-fit trace
    return n, need


def check_trace_memory(scene: Scene, fmt: str) -> None:
    """Refuse (MemoryLimitError, one line) a trace whose peak would pass MEMORY_LIMIT."""
    n, need = scene_trace_bytes(scene, fmt)
    if need > MEMORY_LIMIT:
        raise MemoryLimitError(
            f"{n:,} balls x {scene.steps:,} steps to {fmt.lstrip('.').upper()} needs about "
            f"{need / 1e9:.1f} GB, more than the {MEMORY_LIMIT / 1e9:.0f} GB limit; "
            "use fewer starts, runs or steps"
        )


# ------------------------------------------------------------------- render admission
#
# `studio render` adds to the trajectory what the views and the frames hold. Each panel of the
# export view (studio.export.views) costs bytes per ball-step (the curves' binned copies, the
# 3D heights of the drawn points), per ball (colours, masks, ball marks, per-ball paths of a
# start grid) and per ball-step of a run whose whole trail is laid out once (a run of at most
# TRAIL_BALLS balls: its segments are kept for every frame); the frame costs bytes per pixel
# (the GL framebuffer and its read-back, the composed image, its RGB copy, the writer's). The
# coefficients are upper bounds of what `studio bench --only memory` measures (a child's peak
# RSS) on 640x360 and 4096x2304 renders of a 64x64 grid, 64 runs of 8x8 starts and 64 runs of
# 64x64 starts; docs/architecture.md#memory lists the figures.

RENDER_BASE_BYTES = 225_000_000  # the interpreter with NumPy, sympy, Qt and pyqtgraph
GL_BYTES = 110_000_000  # OpenGL (Mesa) and the 3D view's mesh, once a frame has a 3D panel
FRAME_PIXEL_BYTES = 26  # per pixel of the frame, whatever its format
TRANSPARENT_PIXEL_BYTES = 16  # a transparent PNG's colour key (int16 RGB and the alpha)
TRAIL_BALLS = 64  # runs of at most this many balls keep whole trails (studio.gui.views.trails)


@dataclass(frozen=True)
class PanelCost:
    """What one view adds: bytes per ball-step, per ball, per ball-step of a whole trail."""

    ball_step: int
    ball: int
    trail_step: int


PANEL_COSTS: dict[str, PanelCost] = {
    "3d": PanelCost(ball_step=8, ball=2_600, trail_step=300),
    "contour": PanelCost(ball_step=10, ball=2_400, trail_step=120),
    "loss": PanelCost(ball_step=30, ball=600, trail_step=8),
}


def run_balls(scene: Scene) -> list[int]:
    """Balls of each enabled run of `scene` (its starts, times one plus its EASGD workers)."""
    from studio.engine.registry import validate_hyper

    out = []
    for run in scene.runs:
        if not run.enabled:
            continue
        starts = run.grid[0] * run.grid[1] if run.grid is not None else len(run.starts)
        if scene.surface.network is not None:
            starts = 1  # a network run starts from the network's initial weights
        workers = (
            int(validate_hyper(run.optimizer, run.hyper)["workers"])
            if run.optimizer == "easgd"
            else 0
        )
        out.append(starts * (workers + 1))
    return out


def render_bytes(
    scene: Scene,
    panels: tuple[str, ...],
    size: tuple[int, int],
    transparent: bool = False,
) -> int:
    """Estimated peak bytes of `studio render` of `scene` with these view panels and frame
    size (the format adds nothing measurable in our process: ffmpeg encodes in its own)."""
    from studio.engine.simulate import trajectory_bytes

    balls = run_balls(scene)
    n = sum(balls)
    steps = scene.steps + 1
    total = RENDER_BASE_BYTES + (GL_BYTES if "3d" in panels else 0)
    total += (
        size[0] * size[1] * (FRAME_PIXEL_BYTES + (TRANSPARENT_PIXEL_BYTES if transparent else 0))
    )
    network = scene.surface.network
    dim = network.n_params if network is not None else 2
    total += max(trajectory_bytes(n, scene.steps, dim), n * steps * BALL_STEP_BYTES)
    trail = sum(b for b in balls if b <= TRAIL_BALLS) * steps
    for name in panels:
        cost = PANEL_COSTS[name]
        total += n * steps * cost.ball_step + n * cost.ball + trail * cost.trail_step
    return total


def check_render_memory(
    scene: Scene, panels: tuple[str, ...], size: tuple[int, int], transparent: bool = False
) -> None:
    """Refuse (MemoryLimitError, one line) a render whose peak would pass MEMORY_LIMIT."""
    need = render_bytes(scene, panels, size, transparent)
    if need > MEMORY_LIMIT:
        n = sum(run_balls(scene))
        runs = sum(r.enabled for r in scene.runs)
        raise MemoryLimitError(
            f"rendering {n:,} balls of {runs} run{'s' if runs != 1 else ''} x "
            f"{scene.steps:,} steps in "
            f"{'+'.join(panels)} at {size[0]}x{size[1]} needs about {need / 1e9:.1f} GB, more "
            f"than the {MEMORY_LIMIT / 1e9:.0f} GB limit; use fewer starts, runs or steps, "
            "a smaller frame or a simpler view"
        )
