"""How a scene becomes frames, without Qt: the render options and the frame plan.

`RenderOptions` is what the export dialog gathers and `studio render` parses; the
offscreen renderer (studio.gui.export) draws by it. `plan_times` picks the moment each frame
shows, a fractional step: between two steps the balls glide (the views interpolate), so a
clip of any length plays smoothly. `plan_steps` is the step each frame's counter reads, so
the dialog can say how long a clip will be before anything is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from studio.errors import StudioError
from studio.scene import LOWER_PLOTS, NETWORK_LOWER_PLOTS, Scene

DEFAULT_SECONDS = 10.0  # a run longer than this at one step per frame is spread over it
# A short run is stretched to at least this long (a 20-step run at one step a frame is over
# before a viewer finds the balls). With the 1 s hold, over four fifths of it moves.
MIN_SECONDS = 5.0
DEFAULT_HOLD = 1.0  # seconds the last frame stays, so the ending can be read
MAX_FRAMES = 100_000


@dataclass(frozen=True)
class RenderOptions:
    """Everything about how a scene becomes frames (the scene says what is simulated).

    Clip length: `frames`, else `duration` × fps, else `steps_per_frame`, else one step
    per frame capped at DEFAULT_SECONDS (longer runs are spread evenly over that time).
    `still`: a single frame at `to_step` (PNG).
    `view`: a name in `studio.export.views.EXPORT_VIEWS`.
    `title`: None for the default (the scene's title, else the surface's name and formula),
    "" for none. `camera`: (azimuth, elevation, distance) to start from; None = the 3D
    view's default. `orbit`: degrees the camera turns over the clip.
    `hold`: seconds the last frame is held at the end (inside a clip whose length is given
    in frames or seconds, and only where the hold is at most a fifth of it).
    `lower_plot`: the loss view's lower plot, a name in `studio.scene.LOWER_PLOTS` ("grad",
    "lr", and for a network scene "val_loss" or "accuracy"); `ghost`: the loss curves'
    future drawn faintly while they grow; `floor_contours`: isolines on the 3D floor.
    `transparent`: a PNG whose background is transparent (for overlaying on a slide).
    `msaa`: samples per pixel of the 3D view (antialiased edges; 0 or 1: none). Off by
    default: in software GL 4 samples cost about 40 % of the 3D export's speed.
    `auto_camera`: choose the 3D camera's angles to show the paths (`camera` is unused).
    """

    size: tuple[int, int] = (1280, 720)
    fps: float = 30.0
    view: str = "3d"
    title: str | None = None
    legend: bool = True
    step_counter: bool = True
    dark: bool = True
    trail: int | None = None
    camera: tuple[float, float, float | None] | None = None
    orbit: float = 0.0
    from_step: int = 0
    to_step: int | None = None
    frames: int | None = None
    duration: float | None = None
    steps_per_frame: int | None = None
    still: bool = False
    hold: float = DEFAULT_HOLD
    lower_plot: str = "grad"
    ghost: bool = False
    floor_contours: bool = False
    transparent: bool = False
    msaa: int = 0
    auto_camera: bool = False


# Camera angles by name (azimuth, elevation), as `render --camera` and the dialog name them;
# the distance is fitted to the frame. "auto" is resolved by the renderer.
CAMERA_NAMES: dict[str, tuple[float, float]] = {
    "iso": (-60.0, 32.0),
    "top": (-90.0, 90.0),
    "front": (-90.0, 4.0),
    "side": (0.0, 4.0),
}


def parse_camera(text: str) -> tuple[float, float, float | None] | str:
    """`auto`, a name in CAMERA_NAMES, or `AZ,EL[,DIST]` (degrees, world units) →
    "auto" or (azimuth, elevation, distance or None); StudioError naming the forms."""
    name = text.strip().lower()
    if name == "auto":
        return "auto"
    if name in CAMERA_NAMES:
        az, el = CAMERA_NAMES[name]
        return (az, el, None)
    parts = [p.strip() for p in name.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (2, 3) or not all(math.isfinite(v) for v in values):
        raise StudioError(
            f"camera must be auto, {', '.join(CAMERA_NAMES)} or AZ,EL[,DIST], got {text!r}"
        )
    if not -90.0 <= values[1] <= 90.0:
        raise StudioError(f"camera elevation must be between -90 and 90, got {values[1]:g}")
    if len(values) == 3 and values[2] <= 0:
        raise StudioError(f"camera distance must be positive, got {values[2]:g}")
    return (values[0], values[1], values[2] if len(values) == 3 else None)


@dataclass(frozen=True)
class ExportPreset:
    """A named set of output choices: format, frame size and rate; `max_bytes`: the file
    must stay under this size (the renderer shrinks the frame and rate until it does)."""

    name: str
    label: str
    fmt: str
    size: tuple[int, int]
    fps: float
    max_bytes: int | None = None
    msaa: int = 4


EXPORT_PRESETS: dict[str, ExportPreset] = {
    p.name: p
    for p in (
        ExportPreset("slides-1080p", "Slides 1080p MP4", "mp4", (1920, 1080), 30.0),
        ExportPreset("4:3", "4:3 slides MP4 (1440×1080)", "mp4", (1440, 1080), 30.0),
        ExportPreset("gif-5mb", "GIF under 5 MB", "gif", (800, 450), 20.0, max_bytes=5_000_000),
    )
}


def lower_plot_for(scene: Scene, asked: str | None) -> str:
    """The lower plot an export of `scene` shows: `asked`, else the scene's own choice;
    StudioError (one line) for a name that is not in LOWER_PLOTS, or for validation loss or
    accuracy on a surface scene (only a network has a validation split)."""
    name = scene.lower_plot if asked is None else asked
    if name not in LOWER_PLOTS:
        raise StudioError(f"lower plot must be one of {', '.join(LOWER_PLOTS)}, got {name!r}")
    if name in NETWORK_LOWER_PLOTS and scene.surface.network is None:
        raise StudioError(
            f"lower plot {name} needs a network scene (validation loss and accuracy are "
            "measured on a network's validation split); use grad or lr"
        )
    return name


def _hold_frames(options: RenderOptions) -> int:
    return max(0, round(options.hold * options.fps)) if options.fps > 0 else 0


def plan_times(options: RenderOptions, last_step: int) -> np.ndarray:
    """The moment shown by each frame: non-decreasing fractional steps in [from, to], the
    last one repeated for the hold. A frame between two steps shows the balls part-way."""
    lo = options.from_step
    hi = last_step if options.to_step is None else options.to_step
    if hi > last_step:
        raise StudioError(f"--to {hi} is past the last step ({last_step})")
    if lo > hi:
        raise StudioError(f"the range starts at step {lo}, after its end {hi}")
    if options.still:
        return np.array([float(hi)])
    hold = _hold_frames(options)
    if options.frames is not None or options.duration is not None:
        # The length is the user's: the hold comes out of it, where it is a small part.
        n = (
            options.frames
            if options.frames is not None
            else max(1, round(float(options.duration or 0) * options.fps))
        )
        if n - hold < 4 * hold:
            hold = 0
        moving = n - hold
    elif options.steps_per_frame is not None:
        steps = np.arange(lo, hi + 1, options.steps_per_frame, dtype=float)
        moving_steps = steps if steps[-1] == hi else np.append(steps, float(hi))
        return _with_hold(moving_steps, hold)
    else:
        # One step per frame, stretched to MIN_SECONDS (a short run glides between steps)
        # and squeezed into DEFAULT_SECONDS (a long one skips steps).
        fps = max(options.fps, 1e-9)
        shortest = max(1, round(MIN_SECONDS * fps))
        longest = max(1, round(DEFAULT_SECONDS * fps))
        moving = min(max(hi - lo + 1, shortest), longest) if hi > lo else 1
    if moving + hold > MAX_FRAMES:
        raise StudioError(f"{moving + hold} frames is too long a clip (at most {MAX_FRAMES})")
    if moving == 1:
        return _with_hold(np.array([float(hi)]), hold)
    return _with_hold(np.linspace(lo, hi, moving), hold)


def _with_hold(times: np.ndarray, hold: int) -> np.ndarray:
    return np.append(times, np.full(hold, times[-1])) if hold else times


def plan_steps(options: RenderOptions, last_step: int) -> np.ndarray:
    """The step each frame's counter reads (non-decreasing ints in [from, to]): the step
    the balls last passed."""
    return np.floor(plan_times(options, last_step) + 1e-9).astype(int)


# Frame memory grows with the area (the GL framebuffer, the grabbed image, the writer's copy
# and ffmpeg's own buffers): 4K (3840x2160, 8.3 MP) exports stay well under 1 GB, while an
# 8192x8192 frame took over 3 GB. Sides may still reach MAX_SIDE for tall or wide frames.
MAX_SIDE = 8192
MAX_PIXELS = 4096 * 2304


def check_frame_size(size: tuple[int, int]) -> None:
    """StudioError, before anything is drawn, for a frame too small or too large to render."""
    w, h = size
    if w < 16 or h < 16:
        raise StudioError(f"frame size {w}x{h} is too small (at least 16x16)")
    if w > MAX_SIDE or h > MAX_SIDE:
        raise StudioError(f"frame size {w}x{h} is outside 16..{MAX_SIDE} pixels per side")
    if w * h > MAX_PIXELS:
        raise StudioError(
            f"frame size {w}x{h} is {w * h / 1e6:.1f} megapixels, more than the "
            f"{MAX_PIXELS / 1e6:.1f} MP an export may use to stay under 1 GB of memory "
            "(4K, 3840x2160, is 8.3 MP)"
        )


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """Round each side down to even (what MP4's yuv420p needs), at least 16."""
    return (max(16, size[0] - size[0] % 2), max(16, size[1] - size[1] % 2))


def seconds(options: RenderOptions, n_frames: int) -> float:
    """How long `n_frames` play at the options' rate."""
    return n_frames / options.fps if options.fps > 0 else math.inf


__all__ = [
    "CAMERA_NAMES",
    "DEFAULT_HOLD",
    "DEFAULT_SECONDS",
    "EXPORT_PRESETS",
    "LOWER_PLOTS",
    "MAX_FRAMES",
    "MIN_SECONDS",
    "ExportPreset",
    "RenderOptions",
    "even_size",
    "lower_plot_for",
    "parse_camera",
    "plan_steps",
    "plan_times",
    "seconds",
]
