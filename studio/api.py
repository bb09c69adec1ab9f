"""The public Python API: build a scene, simulate it, write its data, render a clip.

    import studio
    race = studio.make_scene("rosenbrock", studio.run("adam", lr=0.05),
                             studio.run("momentum", lr=2e-4), start=(-1.5, 2), steps=500)
    result = studio.simulate(race)          # NumPy arrays: positions, loss, grad_norm, lr
    result.to_csv("race.csv")
    studio.render(race, "race.mp4")         # in Jupyter the returned clip shows inline

The command line is built on these functions (`studio trace` and `studio render` make their
scene with `make_scene()` and write with `Result` and `render()`), so a script and the CLI give
the same trajectory for the same scene and seed. Every error is a `StudioError` whose
message is one line a person can act on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import StudioError
from studio.scene import HyperValue, Scene, SceneError, SurfaceSpec

if TYPE_CHECKING:
    from studio.engine import Trajectory
    from studio.export.options import RenderOptions
    from studio.network.landscape import LandscapeSurface
    from studio.surface import Surface

Point = tuple[float, float]

__all__ = [
    "Clip",
    "Result",
    "RunDraft",
    "load",
    "make_scene",
    "make_surface",
    "render",
    "run",
    "save",
    "simulate",
]


def make_surface(
    text: str = "rosenbrock",
    *,
    params: Mapping[str, float] | None = None,
    domain: tuple[float, float, float, float] | None = None,
    height: str | None = None,
    reduction: str | None = None,
    data: Any = None,
) -> SurfaceSpec:
    """A surface: a preset's name (`studio presets` lists them) or a formula in x and y.

    `params` sets named constants (`make_surface("a*x^2 + y^2", params={"a": 3})`, or a preset's
    own, e.g. Rosenbrock's `a` and `b`); `domain` is (xmin, xmax, ymin, ymax); `height` is how
    the 3D view scales heights ("auto", "linear" or "log1p"). For a data-fit preset,
    `reduction` "sum" sums the per-row loss over the rows instead of averaging it, and `data`
    ((u, v) pairs, or an (M, 2) array) replaces the preset's rows.
    """
    from studio.surface import PRESETS, parse_expression

    text = text.strip()
    if text in PRESETS:
        spec = SurfaceSpec(preset=text, height=PRESETS[text].height)
    else:
        parse_expression(text, params)  # a mistyped formula fails here, naming its column
        spec = SurfaceSpec(preset=None, expression=text)
    changes: dict[str, Any] = {}
    if params:
        changes["params"] = {**dict(spec.params), **{k: float(v) for k, v in params.items()}}
    if domain is not None:
        changes["domain"] = tuple(float(v) for v in domain)
    if height is not None:
        changes["height"] = height
    if reduction is not None:
        changes["reduction"] = reduction
    if data is not None:
        try:
            changes["data"] = tuple((float(u), float(v)) for u, v in data)
        except (TypeError, ValueError):
            raise StudioError("data must be (u, v) pairs of numbers") from None
    spec = dataclasses.replace(spec, **changes) if changes else spec
    if reduction is not None or data is not None:
        from studio.surface import surface_from_spec

        surface_from_spec(spec)  # a data-fit preset only, finite rows: refused here if not
    return spec


@dataclass(frozen=True)
class RunDraft:
    """One optimizer run as asked for; `make_scene()` completes it (the surface's suggested
    hyperparameters under the ones given, a start, a colour) exactly as the window does."""

    optimizer: str
    hyper: Mapping[str, HyperValue] = field(default_factory=dict)
    starts: tuple[Point, ...] | None = None
    grid: tuple[int, int] | None = None
    label: str = ""
    color: str | None = None


def run(
    optimizer: str,
    *,
    start: Point | None = None,
    starts: list[Point] | None = None,
    grid: tuple[int, int] | None = None,
    label: str = "",
    color: str | None = None,
    **hyper: HyperValue,
) -> RunDraft:
    """A run of `optimizer` ("sgd", "adam", ...; `studio.engine.OPTIMIZERS` lists them) with
    hyperparameters as keywords (`lr=0.05, beta2=0.99, schedule="step", step_size=50`).

    Its balls start at `start`, at each of `starts`, or on an NX × NY `grid` over the domain;
    without any, at the scene's `start`/`grid`, else the preset's classic start.
    """
    if start is not None and starts is not None:
        raise StudioError(f"{optimizer}: give start or starts, not both")
    points = [start] if start is not None else starts
    return RunDraft(
        optimizer=optimizer,
        hyper=dict(hyper),
        starts=tuple((float(x), float(y)) for x, y in points) if points else None,
        grid=tuple(grid) if grid is not None else None,  # type: ignore[arg-type]
        label=label,
        color=color,
    )


def make_scene(
    surface_: str | SurfaceSpec = "rosenbrock",
    *runs: RunDraft | str,
    steps: int = 500,
    seed: int = 0,
    start: Point | None = None,
    grid: tuple[int, int] | None = None,
    title: str = "",
) -> Scene:
    """A validated scene: a surface (a `make_surface()`, a preset name or a formula) and runs
    (`run()` drafts, or bare optimizer names), simulated for `steps` updates with `seed`.

    `start` or `grid` is the default start of the runs that give none. The same limits as a
    scene file apply (step count, sizes, hyperparameter ranges): a bad value raises
    StudioError naming it.
    """
    from studio.editing import NoStartError, new_run
    from studio.engine import validate_hyper
    from studio.scene import scene_from_dict, scene_to_dict

    spec = make_surface(surface_) if isinstance(surface_, str) else surface_
    default_starts = ((float(start[0]), float(start[1])),) if start is not None else None
    draft = Scene(surface=spec)
    for item in runs:
        want = run(item) if isinstance(item, str) else item
        starts, run_grid = want.starts, want.grid
        if starts is None and run_grid is None:
            starts, run_grid = default_starts, grid
        try:
            made = new_run(draft, want.optimizer, hyper=want.hyper, starts=starts, grid=run_grid)
        except NoStartError:
            raise StudioError(
                f"{want.optimizer}: this surface has no classic start: give "
                "start=(x, y) or grid=(nx, ny)"
            ) from None
        made = dataclasses.replace(
            made, label=want.label or made.label, color=want.color or made.color
        )
        draft = dataclasses.replace(draft, runs=draft.runs + (made,))
    built = Scene(surface=spec, runs=draft.runs, steps=int(steps), seed=int(seed), title=title)
    try:  # the structural limits of a scene file (step count, sizes, colours, text)
        built = scene_from_dict(scene_to_dict(built))
    except SceneError as exc:
        raise StudioError(str(exc)) from None
    for r in built.runs:
        validate_hyper(r.optimizer, r.hyper)
    return built


def load(path: str | os.PathLike[str]) -> Scene:
    """A scene file (JSON, as File ▸ Save writes it); StudioError with the reason if not."""
    from studio.scene import load_scene

    return load_scene(path)


def save(scene_: Scene, path: str | os.PathLike[str]) -> None:
    """Write `scene_` as a scene file the window and `studio` commands open."""
    from studio.scene import save_scene

    save_scene(scene_, path)


@dataclass(frozen=True, eq=False)
class Result:
    """A simulated scene: its surface and every ball's path as NumPy arrays.

    positions (T+1, N, 2), loss, grad_norm and lr (T+1, N) for T steps and N balls;
    status (N,) with `studio.engine.STATUS_NAMES`; `labels[b]` names ball b's run.
    """

    scene: Scene
    surface: Surface | LandscapeSurface
    trajectory: Trajectory

    @property
    def positions(self) -> Any:
        return self.trajectory.positions

    @property
    def loss(self) -> Any:
        return self.trajectory.loss

    @property
    def grad_norm(self) -> Any:
        return self.trajectory.grad_norm

    @property
    def lr(self) -> Any:
        return self.trajectory.lr

    @property
    def status(self) -> list[str]:
        from studio.engine import STATUS_NAMES

        return [STATUS_NAMES[int(s)] for s in self.trajectory.status]

    @property
    def labels(self) -> tuple[str, ...]:
        return self.trajectory.ball_label

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """One row per ball and step (the columns of `studio trace`), written atomically."""
        self._write(path, ".csv")

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """The scene and every ball's path as JSON (as `studio trace -o run.json`)."""
        self._write(path, ".json")

    def to_npz(self, path: str | os.PathLike[str], compress: bool = False) -> None:
        """The arrays in a NumPy .npz (as `studio trace -o run.npz`; `compress` for zip)."""
        self._write(path, ".npz", compress)

    def _write(self, path: str | os.PathLike[str], suffix: str, compress: bool = False) -> None:
        from studio.commands.trace import write_trace

        out = Path(path)
        if out.suffix.lower() != suffix:
            raise StudioError(f"{out.name}: expected a {suffix} file name")
        write_trace(self.trajectory, self.scene, out, compress)


def simulate(scene_: Scene) -> Result:
    """Run every enabled run of `scene_`; refused up front (StudioError) if it would not fit
    in memory."""
    from studio.engine import simulate_scene

    surf, traj = simulate_scene(scene_)
    return Result(scene=scene_, surface=surf, trajectory=traj)


@dataclass(frozen=True)
class Clip:
    """A rendered file. In Jupyter it shows inline: an MP4 as an HTML5 video, a GIF or PNG
    as an image (IPython's display protocol; IPython itself is not needed to make one)."""

    path: Path

    def _repr_html_(self) -> str:
        import base64
        import html

        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        name = html.escape(self.path.name)
        if self.path.suffix.lower() == ".mp4":
            return (
                f'<video controls loop autoplay muted playsinline title="{name}" '
                f'style="max-width:100%" src="data:video/mp4;base64,{data}"></video>'
            )
        mime = "image/gif" if self.path.suffix.lower() == ".gif" else "image/png"
        return f'<img alt="{name}" style="max-width:100%" src="data:{mime};base64,{data}"/>'

    def __fspath__(self) -> str:
        return str(self.path)


def render(scene_: Scene, path: str | os.PathLike[str], **options: Any) -> Clip:
    """Render `scene_` to a GIF, MP4 or PNG (by `path`'s suffix) with the options of
    `studio render` as keywords: view="3d" (or "contour", "loss", "3d+loss", "composite"),
    size=(w, h), fps, duration, frames, title, legend, dark, trail, camera, orbit...

    Works without a screen: on Linux with no display it starts its own Xvfb, as
    `studio render` does. The file appears only when complete.
    """
    from studio.export import check_target, format_of, playback_fps, writer_class
    from studio.export.options import RenderOptions, lower_plot_for

    out = Path(path)
    fmt = format_of(out)
    check_target(out)
    writer = writer_class(fmt)
    options.setdefault("size", writer.default_size)
    options["size"] = tuple(int(v) for v in options["size"])
    options["fps"] = playback_fps(fmt, options.get("fps") or writer.default_fps)
    options.setdefault("still", not writer.animated)
    options["lower_plot"] = lower_plot_for(scene_, options.get("lower_plot"))
    from studio.engine.memory import check_render_memory
    from studio.export.views import export_view

    check_render_memory(
        scene_,
        export_view(str(options.get("view", "3d"))).panels,
        options["size"],
        bool(options.get("transparent")),
    )
    try:
        settings = RenderOptions(**options)
    except TypeError as exc:
        raise StudioError(f"render: {exc}") from None
    _render_file(scene_, out, settings)
    return Clip(out)


def preview_png(scene_: Scene, size: tuple[int, int] = (640, 360)) -> bytes:
    """A PNG still of `scene_`'s last step in 3D (what a notebook shows for a scene)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="studio-preview-") as tmp:
        return render(scene_, Path(tmp) / "scene.png", size=size).path.read_bytes()


def _render_file(scene_: Scene, out: Path, settings: RenderOptions) -> None:
    from studio.gui.display import display_for_gl

    with display_for_gl():
        from studio.gui.app import get_app
        from studio.gui.export.renderer import export

        app = get_app()  # held while rendering: a collected QApplication takes every widget
        export(scene_, out, settings)
        del app
