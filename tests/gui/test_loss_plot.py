"""The loss panel: readable axes (no SI scale, few log labels, both step ends), an honest
linear fallback for values ≤ 0, and min/max decimation that draws what the full data would."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PyQt6.QtCore import QPointF
from PyQt6.QtGui import QPainter, QPicture

from studio.gui.session import Session
from studio.gui.views import LossView
from studio.gui.views.curves import decimate, to_log10
from studio.gui.views.plot_axes import MAX_LABELS, MIN_LABEL_GAP_PX, log_labels, log_ticks
from studio.gui.views.trails import DIVERGED
from studio.scene import RunSpec, Scene, SurfaceSpec

from qt_helpers import shown

_FROM_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def scene_of(preset: str, *runs: RunSpec, steps: int = 120) -> Scene:
    return Scene(surface=SurfaceSpec(preset=preset), runs=runs, steps=steps)


def diverging() -> Scene:
    """A 5×5 start grid with SGD at lr 0.63 on Rosenbrock: losses shoot past 1e20."""
    return scene_of(
        "rosenbrock",
        RunSpec("sgd", {"lr": 0.63}, grid=(5, 5), label="SGD", color="#e69f00"),
        steps=200,
    )


def saddle() -> Scene:
    return scene_of(
        "saddle",
        RunSpec("sgd", {"lr": 0.01}, ((-0.5, -1e-4),), label="SGD", color="#e69f00"),
        RunSpec("adam", {"lr": 0.01}, ((-0.5, 0.3),), label="Adam", color="#56b4e9"),
        steps=300,
    )


def adam_on_rosenbrock(steps: int = 80) -> Scene:
    return scene_of(
        "rosenbrock",
        RunSpec("adam", {"lr": 0.05}, ((-1.5, 2.0),), label="Adam", color="#e69f00"),
        steps=steps,
    )


def shown_view(qtbot, scene: Scene) -> LossView:
    session = Session(scene, threaded=False)
    view = shown(qtbot, LossView(session), (700, 450))
    return view


def drawn_labels(axis) -> list[str]:
    """The tick labels the axis paints at its current size and range, left to right or
    bottom to top."""
    picture = QPicture()
    painter = QPainter(picture)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if specs is None:
        return []
    vertical = axis.orientation in ("left", "right")
    placed = sorted(
        (-rect.center().y() if vertical else rect.center().x(), text)
        for rect, _flags, text in specs[2]
        if text
    )
    return [text for _pos, text in placed]


def label_value(text: str) -> float:
    """'0.01', '-5', '1e+22', '10⁻⁵' or '2×10⁻⁵' → the number it stands for."""
    match = re.fullmatch(r"(?:([\d.]+)×)?10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", text)
    if match:
        mantissa = float(match.group(1)) if match.group(1) else 1.0
        return mantissa * 10.0 ** int(match.group(2).translate(_FROM_SUPERSCRIPT))
    return float(text)


def left_axes(view: LossView):
    return [view.loss_plot.value_axis, view.second_plot.value_axis]


# ----------------------------------------------------------------------------- SI prefix


@pytest.mark.parametrize("log", [True, False])
def test_a_diverging_run_shows_true_magnitudes_without_an_si_scale(qtbot, log: bool) -> None:
    view = shown_view(qtbot, diverging())
    view.set_log(log)
    for p in (view.loss_plot, view.second_plot):
        for name in ("left", "bottom"):
            label = p.getPlotItem().getAxis(name).labelString()
            assert "(x" not in label, label
    labels = drawn_labels(view.loss_plot.value_axis)
    assert labels and max(label_value(t) for t in labels) > 1e15, labels
    assert max(label_value(t) for t in drawn_labels(view.second_plot.value_axis)) > 1e10


def test_long_runs_label_steps_in_full(qtbot) -> None:
    view = shown_view(qtbot, adam_on_rosenbrock(steps=20000))
    axis = view.second_plot.step_axis
    assert "(x" not in axis.labelString()
    labels = drawn_labels(axis)
    assert "0" in labels and "20000" in labels, labels


# --------------------------------------------------------------------------- log ticks


@pytest.mark.parametrize("span", [(-0.5, 1.5), (-3.2, -1.1), (0.7, 1.05), (-0.3, 0.5)])
def test_log_axis_labels_are_few_distinct_and_in_order(qtbot, span) -> None:
    view = shown_view(qtbot, adam_on_rosenbrock())
    for p in (view.loss_plot, view.second_plot):
        p.getPlotItem().setYRange(*span, padding=0)
        labels = drawn_labels(p.value_axis)
        assert 2 <= len(labels) <= MAX_LABELS, labels
        assert len(set(labels)) == len(labels), labels
        values = [label_value(t) for t in labels]
        # Painted bottom to top, and every value inside the span shown.
        assert values == sorted(values), labels
        assert all(10 ** span[0] * 0.999 <= v <= 10 ** span[1] * 1.001 for v in values)
        if span[1] - span[0] >= 1.5:  # two decades: only the decades are labelled
            assert all(math.isclose(math.log10(v), round(math.log10(v))) for v in values)


@pytest.mark.parametrize(
    "lo, hi",
    [
        (-21.5, 21.0),
        (-2.0, 0.2),
        (-1.1, 0.05),
        (0.7, 1.05),
        (-5.2, -4.3),
        (0.74, 0.76),
        (2.0001, 2.0003),
    ],
)
@pytest.mark.parametrize("size", [100.0, 180.0, 400.0])
def test_log_ticks_keep_labels_apart(lo: float, hi: float, size: float) -> None:
    major, minor = log_ticks(lo, hi, size)
    labels = log_labels(major)
    assert 2 <= len(major) <= MAX_LABELS and len(set(labels)) == len(labels), labels
    assert all(lo - 1e-9 <= v <= hi + 1e-9 for v in major + minor)
    assert not set(major) & set(minor)
    gaps_px = np.diff(major) * size / (hi - lo)
    assert np.all(gaps_px >= MIN_LABEL_GAP_PX), (labels, gaps_px)
    assert [label_value(t) for t in labels] == pytest.approx(10.0 ** np.array(major), rel=1e-6)


def test_log_labels_are_written_one_way_per_axis() -> None:
    assert log_labels([-2.0, -1.0, 0.0, 1.0]) == ["0.01", "0.1", "1", "10"]
    assert log_labels([-6.0, 0.0, 6.0]) == ["10⁻⁶", "10⁰", "10⁶"]
    assert log_labels(np.log10([2e-5, 5e-5, 1e-4]).tolist()) == ["2×10⁻⁵", "5×10⁻⁵", "10⁻⁴"]


# --------------------------------------------------------------------- linear fallback


def test_values_below_zero_switch_that_plot_to_a_labelled_linear_axis(qtbot) -> None:
    view = shown_view(qtbot, saddle())
    assert view.log()
    loss_axis = view.loss_plot.value_axis
    assert not loss_axis.logMode
    assert ">loss (linear) <" in loss_axis.labelString()  # short: fits a slide's plot
    assert "zero or below" in view.loss_plot.toolTip()  # the reason, on hover
    losses = np.asarray(view.session.trajectory.loss)
    lo, hi = view.loss_plot.getPlotItem().getViewBox().viewRange()[1]
    assert math.isfinite(lo) and math.isfinite(hi)
    assert lo <= float(losses.min()) < 0 < hi  # the negative losses are on screen
    assert any(label_value(t) < 0 for t in drawn_labels(loss_axis))
    # The gradient norm is positive: that plot stays logarithmic.
    assert view.second_plot.value_axis.logMode
    assert "linear" not in view.second_plot.value_axis.labelString()

    view.set_log(False)  # the user's linear scale needs no excuse
    assert "linear" not in loss_axis.labelString()
    view.set_log(True)
    view.session.replace_scene(adam_on_rosenbrock())  # positive losses: back to log
    assert loss_axis.logMode and "linear" not in loss_axis.labelString()


def test_both_plots_keep_one_left_axis_width_so_the_cursors_line_up(qtbot) -> None:
    view = shown_view(qtbot, saddle())  # "-20" above, "0.1" below
    view.session.set_frame(150)
    a, b = left_axes(view)
    qtbot.waitUntil(lambda: a.width() == b.width(), timeout=3000)

    def cursor_x(p) -> float:
        scene_pt = p.getPlotItem().getViewBox().mapViewToScene(QPointF(150.0, 0.0))
        return p.mapTo(view, p.mapFromScene(scene_pt)).x()

    assert abs(cursor_x(view.loss_plot) - cursor_x(view.second_plot)) <= 1


# ---------------------------------------------------------------------------- step axis


@pytest.mark.parametrize("steps", [80, 137, 500])
def test_step_axis_labels_both_ends(qtbot, steps: int) -> None:
    view = shown_view(qtbot, adam_on_rosenbrock(steps))
    for p in (view.loss_plot, view.second_plot):
        labels = drawn_labels(p.step_axis)
        assert labels[0] == "0" and labels[-1] == str(steps), labels
        assert len(set(labels)) == len(labels) >= 3, labels


# --------------------------------------------------------------------------- decimation


def random_walk(steps: int, balls: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.exp(np.cumsum(rng.normal(0, 0.1, (steps, balls)), axis=0))


@pytest.mark.parametrize("width", [3, 7, 50])
def test_decimation_keeps_each_bins_extremes_and_the_ends(width: int) -> None:
    values = random_walk(1001, 3)
    stop = np.array([1000, 1000, 400])
    diverged = np.array([False, False, True])
    full_x, full_y = decimate(values, stop, diverged)
    x, y = decimate(values, stop, diverged, width)
    assert x.size < full_x.size
    for ball in range(3):
        part = slice(ball * (x.size // 3), (ball + 1) * (x.size // 3))
        whole = slice(ball * (full_x.size // 3), (ball + 1) * (full_x.size // 3))
        bx, by, fy = x[part], y[part], full_y[whole]
        shown = np.isfinite(by)
        assert np.nanmin(by) == np.nanmin(fy) and np.nanmax(by) == np.nanmax(fy)
        assert bx[shown][0] == 0
        # Each drawn point is a real sample, at or before the step it is drawn at.
        assert np.all(np.isin(by[shown], fy))
        last = bx[shown].max()
        if diverged[ball]:
            assert last < stop[ball] + width  # cut at the divergence, to within one bin
        else:
            assert last == 1000


def test_log_drops_non_positive_values() -> None:
    values = np.array([[1.0, -1.0], [10.0, 0.0], [100.0, 2.0]])
    x, y = decimate(values, np.array([2, 2]), np.array([False, False]))
    to_log10(y)
    assert x.tolist()[:3] == [0, 1, 2]
    assert y[:3].tolist() == [0.0, 1.0, 2.0]
    assert np.isnan(y[4:6]).all() and y[6] == pytest.approx(math.log10(2.0))


def test_long_runs_are_decimated_and_rebinned_when_zoomed(qtbot) -> None:
    scene = scene_of(
        "rosenbrock",
        RunSpec("adam", {"lr": 0.01}, grid=(3, 3), label="Adam", color="#e69f00"),
        steps=5000,
    )
    view = shown_view(qtbot, scene)
    trajectory = view.session.trajectory
    curve = view.loss_plot.curves[0]
    x, y = curve.getData()
    assert view.loss_plot.bin_width > 1 and x.size < trajectory.loss.size / 2
    # Decimated, yet the same extremes: the picture spans the same range.
    shown = np.asarray(trajectory.loss)[:, trajectory.run_slices[0]]
    assert np.nanmax(y) == pytest.approx(np.log10(shown.max()))
    assert np.nanmin(y) == pytest.approx(np.log10(shown.min()))

    view.loss_plot.getPlotItem().setXRange(1000, 1100, padding=0)
    qtbot.waitUntil(lambda: view.loss_plot.bin_width == 1, timeout=3000)
    x, _ = view.loss_plot.curves[0].getData()
    assert np.count_nonzero((x >= 1000) & (x <= 1100)) == 101 * trajectory.run_slices[0].stop


def test_diverged_balls_stop_at_their_divergence_step(qtbot) -> None:
    view = shown_view(qtbot, diverging())
    trajectory = view.session.trajectory
    status = np.asarray(trajectory.status)
    stop = np.asarray(trajectory.stop_step)
    assert view.loss_plot.bin_width == 1 and (status == DIVERGED).any()
    x, y = view.loss_plot.curves[0].getData()
    per_ball = trajectory.steps + 2  # every step, then the NaN break
    for ball in np.flatnonzero(status == DIVERGED):
        bx = x[ball * per_ball : (ball + 1) * per_ball]
        by = y[ball * per_ball : (ball + 1) * per_ball]
        assert bx[np.isfinite(by)].max() <= stop[ball]
