"""The offscreen renderer: frame plans, every view at the asked size, colours, cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from studio.errors import StudioError
from studio.scene import RunSpec, Scene, SurfaceSpec

ORANGE, BLUE = "#e69f00", "#56b4e9"
SCENE = Scene(
    surface=SurfaceSpec(preset="rosenbrock"),
    runs=(RunSpec("adam", {"lr": 0.05}, ((-1.5, 2.0),), label="Adam", color=ORANGE),
          RunSpec("momentum", {"lr": 0.0005}, ((1.5, -0.5),), label="Momentum", color=BLUE)),
    steps=80,
)


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def colour_pixels(frame: np.ndarray, hex_colour: str, tol: int = 30) -> int:
    return int((np.abs(frame.astype(int) - rgb(hex_colour)).max(-1) < tol).sum())


@pytest.fixture(scope="module")
def offscreen(qapp):  # the QApplication must exist first
    from studio.gui import offscreen
    return offscreen


def test_plan_steps(offscreen) -> None:
    opts = offscreen.RenderOptions
    plan = offscreen.plan_steps
    assert plan(opts(frames=5), 100).tolist() == [0, 25, 50, 75, 100]
    assert plan(opts(duration=1.0, fps=4, from_step=10, to_step=40), 500).tolist() == [
        10, 20, 30, 40]
    assert plan(opts(steps_per_frame=30), 100).tolist() == [0, 30, 60, 90, 100]
    assert plan(opts(still=True, to_step=7), 100).tolist() == [7]
    assert plan(opts(fps=10), 50).size == 51          # one step per frame when short
    assert plan(opts(fps=10), 5000).size == 100       # else spread over 10 seconds
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


@pytest.mark.parametrize("view", ["3d", "contour", "loss", "composite"])
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
        options = offscreen.RenderOptions(size=(480, 270), view="contour", frames=2,
                                          dark=dark, title="")
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

    path = offscreen.export(SCENE, tmp_path / "still.png",
                            offscreen.RenderOptions(size=(200, 120), to_step=40))
    assert iio.imread(path).shape == (120, 200, 3)
