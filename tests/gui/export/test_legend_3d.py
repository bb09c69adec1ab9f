"""Over a 3D view the legend makes way for the scene, never the other way round: however
long its labels, the camera is where it would be with no legend (the surface fills its
panel), and the legend moves to another corner or shrinks."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QRectF

from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

LONG = (
    "Plain stochastic gradient descent with a fixed learning rate",
    "Heavy-ball momentum (Polyak 1964), beta 0.9",
    "Nesterov accelerated gradient, look-ahead step",
    "RMSprop with a decaying average of squared gradients",
    "Adam with bias correction (Kingma and Ba 2015)",
    "Nadam: Adam with Nesterov momentum",
)
RUNS = (
    ("sgd", 0.001),
    ("momentum", 0.0005),
    ("nesterov", 0.0003),
    ("rmsprop", 0.02),
    ("adam", 0.1),
    ("nadam", 0.05),
)


def scene(labels: tuple[str, ...]) -> Scene:
    runs = tuple(
        RunSpec(name, {"lr": lr}, ((-1.5, 2.0),), label=label, color=PALETTE[i])
        for i, ((name, lr), label) in enumerate(zip(RUNS, labels, strict=True))
    )
    return Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=120)


@pytest.fixture(scope="module")
def offscreen(qapp):
    from studio.gui.export import renderer

    return renderer


@pytest.mark.parametrize("view", ["3d", "composite"])
@pytest.mark.parametrize("size", [(1280, 720), (800, 450)])
def test_a_long_legend_never_pulls_the_camera_back(offscreen, view, size) -> None:
    def fitted(labels: tuple[str, ...], legend: bool):
        options = offscreen.RenderOptions(size=size, view=view, frames=2, legend=legend)
        renderer = offscreen.OffscreenRenderer(scene(labels), options)
        try:
            return renderer._camera[2], renderer.legend_rect, renderer.overlays.legend_scale
        finally:
            renderer.close()

    alone, _, _ = fitted(LONG, legend=False)
    short, short_box, short_scale = fitted(("a", "b", "c", "d", "e", "f"), legend=True)
    long, long_box, _ = fitted(LONG, legend=True)
    assert short == pytest.approx(alone, rel=0.011)
    assert long == pytest.approx(alone, rel=0.011)
    assert short_scale == 1.0  # a short legend keeps its size
    assert long_box is not None and short_box is not None
    frame = QRectF(0, 0, *size)
    assert frame.contains(long_box)  # still whole in the frame
