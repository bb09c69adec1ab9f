"""The 3D export keeps the surface as a picture (View3D's static layer) instead of drawing
it every frame: the frames must look the same as drawing everything, and change when the
surface, the theme or the wireframe does."""

from __future__ import annotations

import numpy as np
import pytest

from studio.scene import RunSpec, Scene, SurfaceSpec

SCENE = Scene(
    surface=SurfaceSpec(expression="0.1*x^2 + 2*y^2", domain=(-7.0, 7.0, -7.0, 7.0)),
    runs=tuple(
        RunSpec(name, {"lr": lr}, ((-6.0, 5.0),), label=name, color=colour)
        for name, lr, colour in (
            ("sgd", 0.1, "#e69f00"),
            ("adagrad", 1.0, "#56b4e9"),
            ("rmsprop", 0.3, "#009e73"),
            ("adam", 0.5, "#f0e442"),
        )
    ),
    steps=20,
)


def frames(offscreen, layer: bool, changes=None, n: int = 6, axes: bool = True) -> list[np.ndarray]:
    options = offscreen.RenderOptions(size=(480, 270), view="3d", frames=n, fps=30)
    renderer = offscreen.OffscreenRenderer(SCENE, options)
    try:
        view = renderer._view3d
        view.static_layer = layer
        view.set_axes(axes)
        out = [renderer.render(i) for i in range(n // 2)]
        if changes is not None:
            changes(renderer)
        out += [renderer.render(i) for i in range(n // 2, n)]
        assert (view._layer.key is not None) == layer  # the layer was (or was not) used
        return out
    finally:
        renderer.close()


@pytest.fixture(scope="module")
def offscreen(qapp):
    from studio.gui.export import renderer

    return renderer


def differing(a: list[np.ndarray], b: list[np.ndarray]) -> list[int]:
    return [int((x != y).any(-1).sum()) for x, y in zip(a, b, strict=True)]


def test_static_layer_frames_match_drawing_everything(offscreen) -> None:
    for axes in (False, True):
        kept, drawn = frames(offscreen, True, axes=axes), frames(offscreen, False, axes=axes)
        assert differing(kept, drawn) == [0] * len(kept)
    assert differing(kept[1:], kept[:-1]) != [0] * (len(kept) - 1)  # the balls still move


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r._view3d.set_wireframe(True),
        lambda r: r._view3d.set_floor_contours(True),
        lambda r: r._view3d.set_dark(False),
        lambda r: setattr(r, "_camera", (30.0, 40.0, 20.0)),
    ],
    ids=["wireframe", "floor", "theme", "camera"],
)
def test_static_layer_follows_changes(offscreen, change) -> None:
    kept, drawn = frames(offscreen, True, change), frames(offscreen, False, change)
    assert differing(kept, drawn) == [0] * len(kept)
    # The change shows (the layer was redrawn, not the old picture copied).
    assert differing(kept[3:4], kept[2:3])[0] > 1000
