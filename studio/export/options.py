"""How a scene becomes frames, without Qt: the render options and the frame plan.

`RenderOptions` is what the export dialog gathers and `studio render` parses; the
offscreen renderer (studio.gui.export) draws by it. `plan_steps` picks the step each frame
shows, so the dialog can say how long a clip will be before anything is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from studio.errors import StudioError

DEFAULT_SECONDS = 10.0    # a run longer than this at one step per frame is spread over it
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


def plan_steps(options: RenderOptions, last_step: int) -> np.ndarray:
    """The step shown by each frame (non-decreasing ints in [from, to])."""
    lo = options.from_step
    hi = last_step if options.to_step is None else options.to_step
    if hi > last_step:
        raise StudioError(f"--to {hi} is past the last step ({last_step})")
    if lo > hi:
        raise StudioError(f"the range starts at step {lo}, after its end {hi}")
    if options.still:
        return np.array([hi])
    if options.frames is not None:
        n = options.frames
    elif options.duration is not None:
        n = max(1, round(options.duration * options.fps))
    elif options.steps_per_frame is not None:
        steps = np.arange(lo, hi + 1, options.steps_per_frame)
        return steps if steps[-1] == hi else np.append(steps, hi)
    else:
        n = min(hi - lo + 1, max(1, round(DEFAULT_SECONDS * options.fps)))
    if n > MAX_FRAMES:
        raise StudioError(f"{n} frames is too long a clip (at most {MAX_FRAMES})")
    if n == 1:
        return np.array([hi])
    return np.rint(np.linspace(lo, hi, n)).astype(int)


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """Round each side down to even (what MP4's yuv420p needs), at least 16."""
    return (max(16, size[0] - size[0] % 2), max(16, size[1] - size[1] % 2))


def seconds(options: RenderOptions, n_frames: int) -> float:
    """How long `n_frames` play at the options' rate."""
    return n_frames / options.fps if options.fps > 0 else math.inf


__all__ = ["DEFAULT_SECONDS", "MAX_FRAMES", "RenderOptions", "even_size", "plan_steps",
           "seconds"]
