"""Every log axis shows at least two labelled ticks, whatever its range and height."""

from __future__ import annotations

import numpy as np
import pytest
from test_loss_plot import (
    adam_on_rosenbrock,
    drawn_labels,
    label_value,
    saddle,
    scene_of,
    shown_view,
)

from studio.gui.views.plot_axes import log_labels, log_ticks
from studio.scene import RunSpec, Scene

SPANS = (0.05, 0.3, 0.9, 1.0, 1.3, 2.05, 3.7, 8.0, 25.0, 60.0, 300.0)


@pytest.mark.parametrize("size", [20.0, 30.0, 45.0, 60.0, 90.0, 150.0, 300.0])
def test_log_ticks_label_two_values_at_least(size: float) -> None:
    for lo in np.arange(-3.0, 1.0, 0.13):
        for span in SPANS:
            major, _minor = log_ticks(lo, lo + span, size)
            labels = log_labels(major)
            assert len(major) >= 2 and len(set(labels)) == len(labels), (lo, span, labels)


@pytest.mark.parametrize("height", [300, 800])
def test_the_loss_views_log_axes_draw_two_labels_at_least(qtbot, height: int) -> None:
    """Decades at the very ends of the range (−1.3 … 0, −3 … −2) used to lose their labels,
    and a short plot over two decades labelled only one of them."""
    view = shown_view(qtbot, adam_on_rosenbrock())
    view.resize(700, height)
    qtbot.wait(20)
    for lo, span in [
        (-1.3, 1.3),
        (-3.0, 1.0),
        (-2.0, 2.0),
        (-0.5, 1.3),
        (-3.0, 2.05),
        (-1.1, 0.3),
        (-2.5, 8.0),
        (-20.0, 25.0),
        (0.0, 1.0),
    ]:
        for p in (view.loss_plot, view.second_plot):
            p.getPlotItem().setYRange(lo, lo + span, padding=0)
            drawn_labels(p.value_axis)  # the axis widens to its new labels on the next layout
            qtbot.wait(5)
            labels = drawn_labels(p.value_axis)
            assert len(labels) >= 2, (lo, span, p.value_axis.height(), labels)
            values = [label_value(t) for t in labels]
            assert all(10**lo * 0.999 <= v <= 10 ** (lo + span) * 1.001 for v in values)


@pytest.mark.parametrize("span", [1e6, 1e9, 1e300])
def test_a_vast_log_range_is_labelled_by_counting_not_listing(span: float) -> None:
    """A million-decade range took 0.7 s a paint (every decade was listed), a billion
    raised MemoryError inside the paint; labels are still few, distinct and in order."""
    major, minor = log_ticks(-span, span, 300.0)
    labels = log_labels(major)
    assert 2 <= len(major) <= 6 and major == sorted(major) and minor == []
    assert len(set(labels)) == len(labels)


def test_a_plot_left_empty_after_a_linear_one_gets_a_small_log_range(qtbot) -> None:
    """Losses below zero make the loss plot linear (here to about -2e4); with every run
    removed it goes back to log, and kept the linear range as trillions of decades."""
    scene = saddle()
    run = RunSpec("sgd", {"lr": 0.5}, ((-0.5, 0.5),), label="SGD", color="#e69f00")
    view = shown_view(qtbot, scene_of("saddle", run, steps=40))
    plot = view.loss_plot.getPlotItem()
    assert not view.loss_plot.value_axis.logMode
    assert plot.getViewBox().viewRange()[1][0] < -1e3
    view.session.replace_scene(Scene(surface=scene.surface, runs=(), steps=40))
    assert view.loss_plot.value_axis.logMode
    lo, hi = plot.getViewBox().viewRange()[1]
    assert hi - lo <= 2
    assert len(drawn_labels(view.loss_plot.value_axis)) >= 2
