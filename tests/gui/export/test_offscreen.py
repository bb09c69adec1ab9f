"""The offscreen renderer: frame plans, every view at the asked size, colours, cancel, and
what a lecturer sees in the frames (overlays off the data, framing, orbit, fonts, HiDPI)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QRectF

from studio.errors import StudioError
from studio.scene import RunSpec, Scene, SurfaceSpec

ORANGE, BLUE = "#e69f00", "#56b4e9"
SCENE = Scene(
    surface=SurfaceSpec(preset="rosenbrock"),
    runs=(
        RunSpec("adam", {"lr": 0.05}, ((-1.5, 2.0),), label="Adam", color=ORANGE),
        RunSpec("momentum", {"lr": 0.0005}, ((1.5, -0.5),), label="Momentum", color=BLUE),
    ),
    steps=80,
)


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])


def colour_pixels(frame: np.ndarray, hex_colour: str, tol: int = 30) -> int:
    return int((np.abs(frame.astype(int) - rgb(hex_colour)).max(-1) < tol).sum())


@pytest.fixture(scope="module")
def offscreen(qapp):  # the QApplication must exist first
    from studio.gui.export import renderer

    return renderer


def test_plan_steps(offscreen) -> None:
    opts = offscreen.RenderOptions
    plan = offscreen.plan_steps
    assert plan(opts(frames=5), 100).tolist() == [0, 25, 50, 75, 100]
    assert plan(opts(duration=1.0, fps=4, from_step=10, to_step=40), 500).tolist() == [
        10,
        20,
        30,
        40,
    ]
    assert plan(opts(steps_per_frame=30, hold=0), 100).tolist() == [0, 30, 60, 90, 100]
    assert plan(opts(still=True, to_step=7), 100).tolist() == [7]
    assert plan(opts(fps=10, hold=0), 80).size == 81  # one step per frame
    assert plan(opts(fps=10, hold=0), 5000).size == 100  # else spread over 10 seconds
    assert plan(opts(fps=10, hold=0), 20).size == 50  # a short run: 5 s at least


def test_plan_times_glide_and_hold(offscreen) -> None:
    from studio.export.options import plan_times

    opts, plan = offscreen.RenderOptions, offscreen.plan_steps
    times = plan_times(opts(fps=30), 20)  # a 20-step run, by default
    assert times.size / 30 >= 2.0
    assert np.all(np.diff(times) >= 0) and times[0] == 0 and times[-1] == 20
    moving = np.diff(times) > 0
    assert moving.mean() >= 0.8  # a hold of 1 s, the rest glides
    assert np.sum(times == 20) == 31  # the last frame and its 1 s hold
    assert np.any(times % 1 > 0)  # frames between steps
    assert plan_times(opts(fps=30, hold=2.5), 20).size == 150 + 75
    # A length given in frames keeps its count; a hold too long for it is dropped.
    assert plan_times(opts(frames=5), 100).size == 5
    assert plan_times(opts(duration=10, fps=30), 100)[-31:].tolist() == [100.0] * 31
    with pytest.raises(StudioError, match="after its end"):
        plan(opts(from_step=50, to_step=10), 100)
    with pytest.raises(StudioError, match="past the last step"):
        plan(opts(to_step=101), 100)


def test_pretty_formula_and_default_title(offscreen) -> None:
    assert offscreen.pretty_formula("(1 - x)^2 + 100*(y - x^2)^2") == "(1 − x)² + 100(y − x²)²"
    assert offscreen.pretty_formula("x*y + 1e-3") == "x·y + 1e-3"
    from studio.surface import surface_from_spec

    title = offscreen.default_title(SCENE, surface_from_spec(SCENE.surface))
    assert title.startswith("Rosenbrock") and "100" in title and "²" in title


@pytest.mark.parametrize("view", ["3d", "contour", "loss", "3d+loss", "composite"])
def test_every_view_renders_at_the_asked_size(offscreen, view: str) -> None:
    options = offscreen.RenderOptions(size=(320, 180), view=view, frames=3)
    frames = list(offscreen.render_frames(SCENE, options))
    assert len(frames) == 3
    assert all(f.shape == (180, 320, 3) and f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[-1])  # the run moves (step counter too)
    assert len(np.unique(frames[-1].reshape(-1, 3) // 16, axis=0)) > 20  # really drawn


def test_runs_colours_and_background_match_the_theme(offscreen) -> None:
    from studio.gui.theme import theme_for

    for dark in (True, False):
        options = offscreen.RenderOptions(
            size=(480, 270), view="contour", frames=2, dark=dark, title=""
        )
        last = list(offscreen.render_frames(SCENE, options))[-1]
        assert colour_pixels(last, ORANGE) > 20 and colour_pixels(last, BLUE) > 20
        corner = last[-3, -3]  # bottom right, beyond the plot: the theme's background
        assert np.abs(corner.astype(int) - rgb(theme_for(dark).background)).max() < 8


def test_export_streams_and_cancel_leaves_nothing(offscreen, tmp_path: Path) -> None:
    options = offscreen.RenderOptions(size=(160, 96), frames=40)
    cancel = threading.Event()
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 5:
            cancel.set()

    with pytest.raises(offscreen.ExportCancelled):
        offscreen.export(SCENE, tmp_path / "clip.mp4", options, progress, cancel)
    assert seen[-1] == (5, 40)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_png_export_shows_the_to_step(offscreen, tmp_path: Path) -> None:
    import imageio.v3 as iio

    path = offscreen.export(
        SCENE, tmp_path / "still.png", offscreen.RenderOptions(size=(200, 120), to_step=40)
    )
    assert iio.imread(path).shape == (120, 200, 3)


# ------------------------------------------------------------------ what a lecturer sees


def _frame(offscreen, **kwargs) -> np.ndarray:
    """The last frame of a clip."""
    return list(offscreen.render_frames(SCENE, offscreen.RenderOptions(**kwargs)))[-1]


def _drawn_box(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) round the pixels where two frames differ."""
    ys, xs = np.nonzero(np.abs(a.astype(int) - b).max(-1) > 40)
    assert xs.size, "the overlay drew nothing"
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _plot_parts(renderer) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each 2D plot's axes, data area and whole item, mapped into frame pixels."""
    import pyqtgraph as pg

    parts = []
    for panel in renderer.panels:
        if panel.kind == "3d":
            continue
        widget = panel.widget
        plots = (
            [widget]
            if isinstance(widget, pg.PlotWidget)
            else [pw for pw in widget.findChildren(pg.PlotWidget) if not pw.isHidden()]
        )
        sx = panel.rect.width() / widget.width()
        sy = panel.rect.height() / widget.height()
        for pw in plots:
            item = pw.getPlotItem()
            offset = pw.viewport().mapTo(widget, QPoint(0, 0))
            named = [("plot", item), ("viewbox", item.getViewBox())]
            named += [(f"axis-{n}", item.getAxis(n)) for n in ("left", "bottom")]
            for name, part in named:  # geometry, not boundingRect (an axis's spans its grid)
                size = part.size()
                r = pw.viewportTransform().mapRect(
                    part.mapRectToScene(QRectF(0, 0, size.width(), size.height()))
                )
                x0 = panel.rect.left() + (r.left() + offset.x()) * sx
                y0 = panel.rect.top() + (r.top() + offset.y()) * sy
                parts.append((name, (x0, y0, x0 + r.width() * sx, y0 + r.height() * sy)))
    return parts


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _busy(frame: np.ndarray, box, background: str) -> float:
    """Share of the pixels in `box` that show something (far from the background)."""
    x0, y0, x1, y1 = box
    patch = frame[y0:y1, x0:x1].astype(int)
    return float((np.abs(patch - rgb(background)).max(-1) > 48).mean())


@pytest.mark.parametrize("view", ["loss", "contour"])
def test_2d_overlays_cover_no_axes_and_no_data(offscreen, view: str) -> None:
    """The step counter and the legend stay off the plots' axes, ticks and curves."""
    from studio.gui.theme import theme_for

    common = {"size": (640, 360), "view": view, "frames": 3}
    bare = _frame(offscreen, legend=False, step_counter=False, **common)
    with_step = _frame(offscreen, legend=False, step_counter=True, **common)
    with_legend = _frame(offscreen, legend=True, step_counter=False, **common)
    renderer = offscreen.OffscreenRenderer(
        SCENE, offscreen.RenderOptions(legend=False, step_counter=False, **common)
    )
    try:
        parts = _plot_parts(renderer)
    finally:
        renderer.close()
    step = _drawn_box(bare, with_step)
    assert not any(_overlap(step, rect) for _name, rect in parts), (step, parts)
    legend = _drawn_box(bare, with_legend)
    axes = [rect for name, rect in parts if name.startswith("axis")]
    assert not any(_overlap(legend, rect) for rect in axes), (legend, axes)
    assert _busy(bare, legend, theme_for(True).background) < 0.01  # no curve under it


def _with_and_without_overlays(offscreen, **kwargs) -> list[tuple[np.ndarray, np.ndarray]]:
    """(frame, the same frame with no title, legend or step counter) for each frame."""
    renderer = offscreen.OffscreenRenderer(SCENE, offscreen.RenderOptions(**kwargs))
    try:
        placed = (renderer.title_rect, renderer.legend_rect, renderer.step_rect)
        pairs = []
        for i in range(renderer.n_frames):
            full = renderer.render(i)
            renderer.title_rect = renderer.legend_rect = renderer.step_rect = None
            pairs.append((full, renderer.render(i)))
            renderer.title_rect, renderer.legend_rect, renderer.step_rect = placed
        return pairs
    finally:
        renderer.close()


def _covered(full: np.ndarray, bare: np.ndarray, background: str) -> int:
    """Pixels an overlay changed where the bare frame shows something."""
    changed = np.abs(bare.astype(int) - full).max(-1) > 40
    under = np.abs(bare.astype(int) - rgb(background)).max(-1) > 30
    return int((changed & under).sum())


def test_composite_legend_sits_in_empty_sky(offscreen) -> None:
    """Light theme: the legend over the composite's 3D panel hides none of the surface."""
    from studio.gui.theme import theme_for

    for size in ((800, 450), (1280, 720)):
        [(full, bare)] = _with_and_without_overlays(
            offscreen, size=size, view="composite", frames=1, dark=False, title=""
        )
        legend = _drawn_box(bare, full)
        assert legend[2] <= size[0] * 3 // 5  # over the 3D panel
        assert _covered(full, bare, theme_for(False).background) < 20


def test_3d_overlays_never_cover_the_surface(offscreen) -> None:
    """Title, legend and step counter sit in the sky, over a whole orbit."""
    from studio.gui.theme import theme_for

    pairs = _with_and_without_overlays(
        offscreen, size=(480, 270), view="3d", frames=4, orbit=120.0, title="Overlays"
    )
    for full, bare in pairs:
        assert colour_pixels(full, ORANGE) > colour_pixels(bare, ORANGE)  # legend drawn
        assert _covered(full, bare, theme_for(True).background) < 20


def _surface_box(frame: np.ndarray, background: str) -> tuple[int, int, int, int]:
    mask = np.abs(frame.astype(int) - rgb(background)).max(-1) > 30
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.mark.parametrize("size", [(360, 360), (640, 360), (300, 480)])
def test_3d_surface_fills_the_panel_at_any_aspect(offscreen, size) -> None:
    """pyqtgraph's field of view is horizontal: a narrow panel must not push the camera
    back (it did: a square frame showed the surface across ~55 % of its width)."""
    from studio.gui.theme import theme_for

    frame = _frame(
        offscreen, size=size, view="3d", frames=1, title="", legend=False, step_counter=False
    )
    x0, y0, x1, y1 = _surface_box(frame, theme_for(True).background)
    w, h = size
    assert (x1 - x0) / w > 0.8
    assert x0 > 0 and x1 < w and y0 > 0 and y1 < h  # nothing cut off
    assert abs((y0 + y1) / 2 - h / 2) < 0.1 * h  # not hanging in the top half


def test_orbit_ends_at_the_full_angle(offscreen) -> None:
    def azimuths(frames: int) -> list[float]:
        options = offscreen.RenderOptions(size=(160, 90), view="3d", frames=frames, orbit=90.0)
        renderer = offscreen.OffscreenRenderer(SCENE, options)
        try:
            seen = []
            for i in range(renderer.n_frames):
                renderer.render(i)
                seen.append(renderer.panels[0].widget.camera()[0])
            return seen
        finally:
            renderer.close()

    seen = azimuths(5)
    assert seen[-1] - seen[0] == pytest.approx(90.0)
    assert np.diff(seen) == pytest.approx([22.5] * 4)
    assert azimuths(1) == pytest.approx([seen[0]])  # one frame: the start


def test_axis_fonts_grow_with_the_export_but_stay_legible(offscreen) -> None:
    """Tick labels of the 2D plots: ≥ 11 px in an 800×450 GIF, not huge at 4K."""
    import pyqtgraph as pg

    renderer = offscreen.OffscreenRenderer(
        SCENE, offscreen.RenderOptions(size=(800, 450), view="composite", frames=1)
    )
    try:
        sizes = []
        for panel in renderer.panels[1:]:
            scale = panel.rect.height() / panel.widget.height()
            widgets = (
                [panel.widget]
                if isinstance(panel.widget, pg.PlotWidget)
                else panel.widget.findChildren(pg.PlotWidget)
            )
            for pw in widgets:
                for name in ("left", "bottom"):
                    font = pw.getPlotItem().getAxis(name).style["tickFont"]
                    assert font is not None
                    sizes.append(font.pixelSize() * scale)
    finally:
        renderer.close()
    assert min(sizes) >= 11
    assert offscreen.axis_font_px((1920, 1080)) > offscreen.axis_font_px((800, 450))
    assert offscreen.axis_font_px((3840, 2160)) < 2160 * 0.02


@pytest.mark.parametrize("view", ["3d", "contour", "composite"])
def test_a_hidpi_screen_does_not_change_the_export(view: str, tmp_path: Path) -> None:
    """QT_SCALE_FACTOR=2 (a device pixel ratio of 2) gives the frame of ratio 1: the 3D
    grab once came back at twice the size, lost its legend and step counter off the
    canvas, doubled its title and halved its balls."""
    import imageio.v3 as iio

    from studio.scene import scene_to_json

    scene = tmp_path / "scene.json"
    scene.write_text(scene_to_json(SCENE), encoding="utf-8")
    frames = []
    for factor in ("1", "2"):
        out = tmp_path / f"x{factor}.png"
        env = {**os.environ, "QT_SCALE_FACTOR": factor}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "studio",
                "render",
                str(scene),
                "-o",
                str(out),
                "--size",
                "480x270",
                "--view",
                view,
                "--title",
                "HiDPI",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        frames.append(iio.imread(out)[..., :3].astype(int))
    one, two = frames
    assert one.shape == two.shape == (270, 480, 3)
    assert (np.abs(one - two).max(-1) > 40).mean() < 0.005  # the same picture
    right = slice(480 // 2, 480)  # a map's legend takes the column its square panel frees
    assert colour_pixels(two[:, right], ORANGE) > 10  # legend (and balls) where they were


def test_a_crowded_legend_lists_ten_runs_and_counts_the_rest(offscreen) -> None:
    """The export's legend follows the window's: ten runs, then "+N more", labels cut short,
    so 64 runs or a long label cannot run off the frame."""
    runs = tuple(
        RunSpec(
            "sgd",
            {"lr": 0.001 * (k + 1)},
            ((-1.0, 1.0),),
            label="a very long label " * 4 if k == 0 else "",
        )
        for k in range(14)
    )
    scene = Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=20)
    renderer = offscreen.OffscreenRenderer(
        scene, offscreen.RenderOptions(size=(640, 360), frames=2)
    )
    try:
        assert renderer.legend_rect is not None
        assert renderer.legend_rect.bottom() <= 360 and renderer.legend_rect.right() <= 640
        rows = renderer.overlays._legend_rows(0)
    finally:
        renderer.close()
    assert len(rows) == 11 and rows[-1] == ("", "+4 more", "")
    assert rows[0][1].endswith("…") and len(rows[0][1]) <= 40


def test_3d_beside_loss_has_the_surface_left_and_the_curves_right(offscreen) -> None:
    options = offscreen.RenderOptions(size=(640, 360), view="3d+loss", frames=1, title="")
    renderer = offscreen.OffscreenRenderer(SCENE, options)
    try:
        kinds = [(p.kind, p.rect.left(), p.rect.height()) for p in renderer.panels]
    finally:
        renderer.close()
    assert [k for k, _, _ in kinds] == ["3d", "loss"]
    assert kinds[0][1] == 0 and kinds[1][1] > 320 and kinds[1][2] == kinds[0][2]


def moving_pairs(frames: list[np.ndarray]) -> float:
    return float(
        np.mean(
            [
                int((np.abs(a.astype(int) - b.astype(int)).max(-1) > 24).sum()) >= 3
                for a, b in itertools.pairwise(frames)
            ]
        )
    )


def test_a_20_step_run_glides_for_over_2_seconds(offscreen) -> None:
    scene = Scene(
        surface=SurfaceSpec(expression="0.1*x^2 + 2*y^2", domain=(-7, 7, -7, 7)),
        runs=(
            RunSpec("adam", {"lr": 0.5}, ((-6.0, 3.0),), color=ORANGE),
            RunSpec("sgd", {"lr": 0.2}, ((-6.0, 3.0),), color=BLUE),
        ),
        steps=20,
    )
    options = offscreen.RenderOptions(size=(480, 270), view="3d", fps=20)
    frames = list(offscreen.render_frames(scene, options))
    hold = round(options.hold * options.fps)
    assert len(frames) / options.fps >= 2.0
    # The motion: 80% of the pairs before the deliberate hold at the end show the balls move.
    assert moving_pairs(frames[:-hold]) >= 0.8
    assert all(np.array_equal(frames[-1], f) for f in frames[-hold:])  # the ending is held


@pytest.mark.parametrize("view", ["3d", "contour"])
def test_balls_are_drawn_between_steps(offscreen, view: str) -> None:
    scene = Scene(
        surface=SurfaceSpec(expression="0.1*x^2 + 2*y^2", domain=(-7, 7, -7, 7)),
        runs=(RunSpec("sgd", {"lr": 0.2}, ((-6.0, 3.0),), color=ORANGE),),
        steps=4,
    )
    frames = list(
        offscreen.render_frames(
            scene,
            offscreen.RenderOptions(
                size=(320, 180),
                view=view,
                frames=9,
                hold=0,
                legend=False,
                step_counter=False,
                title="",
            ),
        )
    )
    # Frames 1 (step 0.5) and 2 (step 1) differ: the ball moved within a step.
    assert not np.array_equal(frames[1], frames[2])
    assert not np.array_equal(frames[0], frames[1])


def test_loss_curves_unfold(offscreen) -> None:
    def frame(step: int, ghost: bool = False) -> np.ndarray:
        options = offscreen.RenderOptions(
            size=(480, 270),
            view="loss",
            still=True,
            to_step=step,
            title="",
            legend=False,
            step_counter=False,
            ghost=ghost,
        )
        return next(iter(offscreen.render_frames(SCENE, options)))

    def ink(image: np.ndarray) -> int:
        return colour_pixels(image, ORANGE, 40) + colour_pixels(image, BLUE, 40)

    start, end = ink(frame(0)), ink(frame(SCENE.steps))
    assert start * 5 < end
    bare, ghosted = frame(0).astype(int), frame(0, ghost=True).astype(int)
    assert (np.abs(ghosted - bare).max(-1) > 10).sum() > 200  # the future, faintly


def test_lower_plot_and_floor_contours_follow_the_options(offscreen) -> None:
    from studio.gui.export.renderer import OffscreenRenderer

    renderer = OffscreenRenderer(
        SCENE,
        offscreen.RenderOptions(
            size=(640, 360), view="composite", frames=2, lower_plot="lr", floor_contours=True
        ),
    )
    try:
        kinds = {p.kind: p.widget for p in renderer.panels}
        assert kinds["loss"].second_plot.field == "lr"
        assert kinds["3d"].floor_contours()
    finally:
        renderer.close()


def test_contour_axes_cover_the_domain_only(offscreen) -> None:
    from studio.gui.export.panels import viewbox_rects
    from studio.gui.export.renderer import OffscreenRenderer

    scene = Scene(
        surface=SurfaceSpec(expression="x^2 + y^2", domain=(-2, 2, -2, 2)),
        runs=SCENE.runs[:1],
        steps=10,
    )
    renderer = OffscreenRenderer(
        scene, offscreen.RenderOptions(size=(640, 360), view="contour", frames=2)
    )
    try:
        panel = renderer.panels[0]
        (x0, x1), (y0, y1) = panel.widget.getPlotItem().getViewBox().viewRange()
        assert x0 > -2.3 and x1 < 2.3 and y0 > -2.3 and y1 < 2.3
        box = viewbox_rects(panel)[0]
        assert abs(box.width() / box.height() - 1) < 0.08
        assert renderer.legend_rect is not None
        assert renderer.legend_rect.left() >= panel.rect.right()  # in the freed column
    finally:
        renderer.close()


def test_long_titles_wrap_or_scale_never_cut(offscreen) -> None:
    from studio.gui.export.renderer import OffscreenRenderer

    title = "A very long title about adaptive optimizers in a steep narrow valley " * 2
    for view in ("3d", "3d+loss"):
        renderer = OffscreenRenderer(
            SCENE, offscreen.RenderOptions(size=(640, 360), view=view, frames=2, title=title)
        )
        try:
            text = renderer.overlays.title_text
            assert "…" not in text and text.split() == title.split()
            assert renderer.title_rect is not None and renderer.title_rect.right() <= 640
        finally:
            renderer.close()


def test_transparent_png_keys_out_the_background(offscreen, tmp_path: Path) -> None:
    options = offscreen.RenderOptions(size=(320, 180), view="3d", transparent=True)
    path = offscreen.export(SCENE, tmp_path / "t.png", options)
    import imageio.v3 as iio

    image = iio.imread(path)
    assert image.shape == (180, 320, 4)
    assert 0.1 < (image[..., 3] == 0).mean() < 0.95
