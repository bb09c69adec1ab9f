"""The "memory" section of `studio bench`: peak RSS of the largest commands the CLI accepts.

Each command runs in a child process that reports its own peak RSS (VmHWM) and that of the
ffmpeg it ran, so every figure is one command's own. The limit every accepted
command stays under is `studio.engine.memory.MEMORY_LIMIT`; what would pass it is refused up
front by the admission checks (`check_trace_memory`, `check_render_memory`).

- `studio render`, every export view, MP4 and GIF, at the largest frame area
  (`studio.export.options.MAX_PIXELS`, 4096x2304) of two scenes at the most steps the
  admission check accepts: a 64x64 start grid (one run of 4,096 balls) and 64 runs of 8x8
  starts (4,096 balls whose whole trails are kept), and 64 runs of 64x64 starts (262,144
  balls: refused at any steps but in the loss view). A few frames each: the peak is reached
  while the views are built and the first frames drawn, not by the clip's length. The
  baseline column is the admission check's estimate (a ratio above 1: under the estimate).
  One more step past the largest accepted is refused: the time to that refusal is a row.
`studio trace` of the largest grid to each format is the "trace" section's (memory and time).

- A network scene at the engine's cap on its weights: one Adam run on a 64-256-120-10 relu
  network of the 0-9 digits (48,690 weights) for the most steps the cap accepts, traced to NPZ
  and CSV and rendered (composite, 1280x720, MP4); one step more is refused before training.

`--quick`: 1280x720 frames, a 16x16 grid and 16 runs of 2x2 starts, at most QUICK_STEPS steps
(no refusal rows then).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from studio.bench.table import BenchRow

FORMATS = ("mp4", "gif")
FRAMES = 3  # frames per render: the peak is the views' set-up and the first frames
QUICK_STEPS = 2000
# The network rows' network (the digits01 default in --quick, at a tenth of its steps cap).
NETWORK = {"task": "digits", "hidden": (256, 120), "activation": "relu"}
QUICK_NETWORK_STEPS = 300


# The child reports its own high-water mark (VmHWM, reset by exec) when it exits: the
# rusage of a child (wait4, RUSAGE_CHILDREN) also counts the parent's size at the fork,
# which, after other bench sections have loaded Qt, is larger than a small command's peak.
# Its children (ffmpeg) are counted by their rusage: at most the child's size when it
# started them, or their own peak.
_REPORTING_MAIN = """
import atexit, os, resource, sys
def _report():
    with open("/proc/self/status") as status:
        kib = int(next(line for line in status if line.startswith("VmHWM")).split()[1])
    kib = max(kib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    with open(os.environ["STUDIO_PEAK_FILE"], "w") as out:
        out.write(str(kib))
atexit.register(_report)
from studio.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_measured(args: list[str], cwd: Path) -> tuple[int, float, float, str]:
    """(exit status, peak RSS in MiB, seconds, stderr) of `studio ARGS` in a child process:
    the larger of the child's own peak and that of any process it waited for (ffmpeg)."""
    peak_file = cwd / f".peak-{os.getpid()}"
    env = {**os.environ, "STUDIO_PEAK_FILE": str(peak_file)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _REPORTING_MAIN, *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stderr is not None
    with proc.stderr:  # a few lines at most, so no deadlock on the pipe
        err = proc.stderr.read().decode("utf-8", "replace")
    proc.wait()
    seconds = time.perf_counter() - t0
    kib = float(peak_file.read_text()) if peak_file.exists() else 0.0
    peak_file.unlink(missing_ok=True)
    return proc.returncode, kib / 1024, seconds, err


def _scene(runs: int, grid: int, steps: int):
    from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

    return Scene(
        surface=SurfaceSpec(preset="rosenbrock"),
        runs=tuple(
            RunSpec(
                "sgd",
                # Tiny and different rates: every ball moves, nothing diverges or stops.
                {"lr": 1e-6 * (1 + k % 9), "tol": 0.0},
                (),
                grid=(grid, grid),
                label=f"run {k + 1}",
                color=PALETTE[k % len(PALETTE)],
            )
            for k in range(runs)
        ),
        steps=steps,
    )


def network_scene(quick: bool, steps: int | None = None):
    """One Adam run on the bench's network: `steps`, or the most the engine's cap accepts."""
    from studio.engine.simulate import MAX_TRAJECTORY_BYTES
    from studio.network.model import NetworkSpec
    from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

    spec = NetworkSpec() if quick else NetworkSpec(**NETWORK)  # type: ignore[arg-type]
    if steps is None:
        # trajectory_bytes(1, steps, D) = (steps + 1) × (D + 3) × 8 bytes at most the cap.
        steps = MAX_TRAJECTORY_BYTES // ((spec.n_params + 3) * 8) - 1
        steps = min(steps, QUICK_NETWORK_STEPS) if quick else steps
    run = RunSpec("adam", {"lr": 0.001}, ((0.0, 0.0),), label="Adam", color=PALETTE[0])
    return Scene(surface=SurfaceSpec(preset=None, network=spec), runs=(run,), steps=steps)


def network_rows(cwd: Path, quick: bool, target: str) -> list[BenchRow]:
    """Peak RSS of trace (NPZ, CSV) and render of the largest network scene accepted, and
    the time to refuse one step more."""
    from studio.engine.memory import render_bytes, scene_trace_bytes
    from studio.export.views import EXPORT_VIEWS
    from studio.scene import scene_to_json

    scene = network_scene(quick)
    spec = scene.surface.network
    assert spec is not None
    what = f"network {'-'.join(map(str, spec.sizes))} {spec.activation} x {scene.steps} steps"
    (cwd / "net.json").write_text(scene_to_json(scene))
    size = (1280, 720)
    commands = [
        (["trace", "net.json", "-o", f"out.{fmt}"], f"trace -> {fmt.upper()}", need)
        for fmt in ("npz", "csv")
        for need in [scene_trace_bytes(scene, f".{fmt}")[1]]
    ] + [
        (
            ["render", "net.json", "--view", "composite", "--size", f"{size[0]}x{size[1]}"]
            + ["--frames", str(FRAMES), "--hold", "0", "-q", "-o", "out.mp4"],
            f"render composite {size[0]}x{size[1]} -> MP4",
            render_bytes(scene, EXPORT_VIEWS["composite"].panels, size),
        ),
    ]
    rows = []
    for args, name, estimate in commands:
        rc, peak, _s, err = run_measured(args, cwd)
        if rc != 0:
            raise RuntimeError(f"studio {' '.join(args)} failed: {_last(err) or rc}")
        rows.append(
            BenchRow(
                f"{what}: {name}: peak RSS",
                peak,
                "MiB",
                baseline=estimate / 2**20,
                baseline_name="admission estimate",
                lower_is_better=True,
                target=target,
            )
        )
    if quick:
        return rows
    over = network_scene(quick, scene.steps + 1)
    (cwd / "net.json").write_text(scene_to_json(over))
    rc, _peak, seconds, err = run_measured(["trace", "net.json", "-o", "out.npz"], cwd)
    if rc != 2 or "to keep" not in err:
        raise RuntimeError(f"{what} + 1 step was not refused: {_last(err)}")
    rows.append(BenchRow(f"{what} + 1: refused up front", seconds, "s", lower_is_better=True))
    return rows


def largest_steps(runs: int, grid: int, panels: tuple[str, ...], size: tuple[int, int]) -> int:
    """The most steps of `_scene(runs, grid, ...)` that the engine and the render admission
    accept (0: none)."""
    from studio.engine.memory import MEMORY_LIMIT, render_bytes
    from studio.engine.simulate import MAX_BALL_STEPS
    from studio.scene import MAX_STEPS

    balls = runs * grid * grid
    hi = min(MAX_STEPS, MAX_BALL_STEPS // balls - 1)
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if render_bytes(_scene(runs, grid, mid), panels, size) <= MEMORY_LIMIT:
            lo = mid
        else:
            hi = mid - 1
    return lo


def memory_section(quick: bool) -> tuple[str, list[BenchRow]]:
    from studio.engine.memory import MEMORY_LIMIT, render_bytes
    from studio.export.options import MAX_PIXELS
    from studio.export.views import EXPORT_VIEWS
    from studio.scene import scene_to_json

    size = (1280, 720) if quick else (4096, MAX_PIXELS // 4096)
    cases = ((1, 16), (16, 2)) if quick else ((1, 64), (64, 8), (64, 64))
    limit_mib = MEMORY_LIMIT / 2**20
    target = f"< {limit_mib:.0f}"
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-memory-") as tmp:
        cwd = Path(tmp)
        for view, info in EXPORT_VIEWS.items():
            for runs, grid in cases:
                boundary = largest_steps(runs, grid, info.panels, size)
                steps = min(boundary, QUICK_STEPS) if quick else boundary
                what = f"render {view} {size[0]}x{size[1]}, {runs} x {grid}x{grid} starts"
                if steps == 0:
                    rows.append(BenchRow(f"{what}: refused at any steps", 0, "steps"))
                    continue
                scene = _scene(runs, grid, steps)
                estimate = render_bytes(scene, info.panels, size) / 2**20
                (cwd / "scene.json").write_text(scene_to_json(scene))
                for fmt in FORMATS:
                    args = [
                        "render",
                        "scene.json",
                        "--view",
                        view,
                        "--size",
                        f"{size[0]}x{size[1]}",
                        "--frames",
                        str(FRAMES),
                        "--hold",
                        "0",
                        "-q",
                        "-o",
                        f"out.{fmt}",
                    ]
                    rc, peak, _s, err = run_measured(args, cwd)
                    if rc != 0:
                        raise RuntimeError(f"studio {' '.join(args)} failed: {_last(err) or rc}")
                    rows.append(
                        BenchRow(
                            f"{what} x {steps} steps -> {fmt.upper()}: peak RSS",
                            peak,
                            "MiB",
                            baseline=estimate,
                            baseline_name="admission estimate",
                            lower_is_better=True,
                            target=target,
                        )
                    )
                    (cwd / f"out.{fmt}").unlink(missing_ok=True)
                if steps < boundary:
                    continue
                # One step more is refused before anything is simulated or drawn.
                over = dataclasses.replace(scene, steps=steps + 1)
                (cwd / "scene.json").write_text(scene_to_json(over))
                rc, _peak, seconds, err = run_measured(
                    ["render", "scene.json", "--view", view, "--size", f"{size[0]}x{size[1]}"]
                    + ["-o", "out.mp4"],
                    cwd,
                )
                if rc != 2 or "limit" not in err:
                    raise RuntimeError(f"{what} x {steps + 1} steps was not refused: {_last(err)}")
                rows.append(
                    BenchRow(
                        f"{what} x {steps + 1} steps: refused up front",
                        seconds,
                        "s",
                        lower_is_better=True,
                    )
                )
        rows += network_rows(cwd, quick, target)
    return "Peak memory of the largest accepted commands (one child process each)", rows


def _last(err: str) -> str:
    lines = err.strip().splitlines()
    return lines[-1] if lines else ""
