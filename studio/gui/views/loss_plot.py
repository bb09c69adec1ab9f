"""Loss against step for every run, and a second plot of gradient norm or learning rate.

One curve item per run: its balls are joined into one array with NaN breaks, so a start
grid of a thousand balls is still one item. A diverged ball's curve stops at its
divergence step (its later values are meaningless and would wreck the axis range). The
vertical cursor marks the frame shown; drag it, or click a plot, to scrub.

Long runs are decimated to what the screen can show: each bin of steps narrower than a
pixel column is drawn as its minimum and maximum, so the picture is the same as drawing
every step at a fraction of the cost; zooming in on the step axis re-bins finer.

Log scale is honest: a plot whose values include zero or negatives (saddles, the six-hump
camel) falls back to a linear axis and says so in its label, instead of silently dropping
those points. Tick labels never carry pyqtgraph's automatic SI scale ("x1e+12"), and a log
axis labels decades (or a few well-spaced values inside one decade), never every minor tick.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, QSignalBlocker, Qt, QTimer
from PyQt6.QtGui import QFontMetricsF
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from studio.engine.trajectory import Trajectory
from studio.gui.session import Session
from studio.gui.theme import Theme, theme_for
from studio.gui.views.trails import DIVERGED

SECOND = {"Gradient norm": "grad_norm", "Learning rate": "lr"}
AXIS_NAMES = {"loss": "loss", "grad_norm": "‖∇f‖", "lr": "lr"}
LINEAR_FALLBACK = " (linear: values ≤ 0)"

MIN_LABEL_GAP_PX = 22.0   # between tick labels on a vertical axis (a label is ~14 px tall)
MAX_LABELS = 6            # labelled ticks on one vertical axis, at most
MIN_TICK_GAP_PX = 4.0     # between unlabelled minor ticks (denser is a grey smear)
STEP_LABEL_OVERFLOW_PX = 22  # a step label may reach this far past the plot's ends
MIN_DECIMATE_PX = 300.0   # assumed plot width before the widget is laid out
DETAIL_DELAY_MS = 40      # re-bin this long after the last zoom or resize, not on every event

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


# ----------------------------------------------------------------------------- curve data


def _bin_extremes(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin minimum and maximum over the time axis of (T+1, n) `values`, bins of `width`.

    fmin/fmax skip NaN (a bin is NaN only if all of it is) and never warn. Whole bins are
    reduced through a (bins, width, n) reshape, a view when rows are contiguous: about ten
    times faster than `ufunc.reduceat` along axis 0.
    """
    steps, n = values.shape
    whole = steps // width
    blocks = values[:whole * width].reshape(whole, width, n)
    lo, hi = np.fmin.reduce(blocks, axis=1), np.fmax.reduce(blocks, axis=1)
    if whole * width < steps:
        tail = values[whole * width:]
        lo = np.vstack([lo, np.fmin.reduce(tail, axis=0)])
        hi = np.vstack([hi, np.fmax.reduce(tail, axis=0)])
    return lo, hi


def _recut_stop_bins(pairs: np.ndarray, values: np.ndarray, stop: np.ndarray,
                     diverged: np.ndarray, width: int) -> None:
    """Redo, from the steps up to the stop only, the bin that holds each diverged ball's
    stop step (a bin straddling it must not show the meaningless values after it)."""
    balls = np.flatnonzero(diverged & (stop < values.shape[0] - 1))
    if balls.size == 0:
        return
    first = stop[balls] // width * width
    steps = first[:, None] + np.arange(width)[None, :]          # (k, width)
    inside = steps <= stop[balls, None]
    seg = values[np.minimum(steps, values.shape[0] - 1), balls[:, None]]
    seg = np.where(inside, seg, np.nan)
    lo, hi = np.fmin.reduce(seg, axis=1), np.fmax.reduce(seg, axis=1)
    falling = seg[:, 0] >= values[stop[balls], balls]
    b = first // width
    pairs[balls, b, 0] = np.where(falling, hi, lo)
    pairs[balls, b, 1] = np.where(falling, lo, hi)


def decimate(values: np.ndarray, stop: np.ndarray, diverged: np.ndarray,
             width: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(T+1, n) per-ball values → x, y joined ball after ball with a NaN between balls.

    `width` > 2 bins the steps `width` at a time and keeps each bin's minimum and maximum
    (in the order they are reached when the bin runs monotonically), placed at the bin's
    first and last step: with bins no wider than a pixel the line looks exactly like the
    full one. Bins are reduced along the time axis of the caller's array (often a view into
    the trajectory), so nothing of full size is copied or transposed.

    A diverged ball's values after `stop` are cut (NaN); in binned curves its line ends
    within one bin of the stop.
    """
    steps, n = values.shape
    if width <= 2 or steps <= 2:  # a bin of two keeps both points: nothing to gain
        xs = np.arange(steps, dtype=float)
        y = np.empty((n, steps + 1))
        y[:, :steps] = values.T
        if diverged.any():
            y[:, :steps][diverged[:, None] & (xs[None, :] > stop[:, None])] = np.nan
    else:
        starts = np.arange(0, steps, width)
        ends = np.minimum(starts + width - 1, steps - 1)
        lo, hi = _bin_extremes(values, width)
        falling = values[starts] >= values[ends]
        pairs = np.empty((n, len(starts), 2))
        pairs[:, :, 0] = np.where(falling, hi, lo).T
        pairs[:, :, 1] = np.where(falling, lo, hi).T
        if diverged.any():
            pairs[diverged[:, None] & (starts[None, :] > stop[:, None])] = np.nan
            _recut_stop_bins(pairs, values, stop, diverged, width)
        xs = np.column_stack([starts, ends]).astype(float).ravel()
        y = np.empty((n, xs.size + 1))
        y[:, :-1] = pairs.reshape(n, -1)
    y[:, -1] = np.nan
    return np.tile(np.append(xs, np.nan), n), y.ravel()


def has_nonpositive(y: np.ndarray) -> bool:
    """Whether `y` holds a finite value ≤ 0 (which a log axis cannot show)."""
    with np.errstate(invalid="ignore"):
        low = y <= 0
    return bool(np.any(low & np.isfinite(y)))


def to_log10(y: np.ndarray) -> np.ndarray:
    """log10 in place; values ≤ 0 and non-finite values become NaN (gaps in the line)."""
    with np.errstate(invalid="ignore"):
        positive = y > 0
    np.log10(y, out=y, where=positive)
    y[~positive] = np.nan
    y[np.isinf(y)] = np.nan
    return y


def curve_arrays(values: np.ndarray, stop: np.ndarray, diverged: np.ndarray,
                 log: bool, width: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """`decimate`, then log10 (non-positive values dropped) or non-finite values dropped."""
    x, y = decimate(values, stop, diverged, width)
    if log:
        to_log10(y)
    else:
        y[~np.isfinite(y)] = np.nan
    return x, y


def robust_range(ys: list[np.ndarray]) -> tuple[float, float] | None:
    """A y range that one runaway value cannot flatten: up to the 99.5th percentile of the
    points drawn (for binned curves, the bins' extremes)."""
    finite = [y[np.isfinite(y)] for y in ys]
    data = np.concatenate(finite) if finite else np.zeros(0)
    if data.size == 0:
        return None
    lo = float(data.min())
    hi = float(np.percentile(data, 99.5)) if data.size >= 200 else float(data.max())
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.05 * (hi - lo)
    return float(lo - pad), float(hi + pad)


# ------------------------------------------------------------------------- log-axis ticks


def _mantissa_ticks(lo: float, hi: float, mantissas: Sequence[float] | None = None,
                    step: float | None = None) -> np.ndarray:
    """Log10 positions in [lo, hi] of m·10^e, for m in `mantissas` or on a grid of `step`."""
    out: list[np.ndarray] = []
    for e in range(math.floor(lo) - 1, math.ceil(hi) + 1):
        if mantissas is not None:
            m = np.asarray(mantissas, dtype=float)
        else:
            assert step is not None
            # Only the grid points inside [lo, hi]: a tiny span needs a fine step.
            k0 = max(round(1 / step), math.floor(10 ** (lo - e) / step))
            k1 = min(round(10 / step) - 1, math.ceil(10 ** (hi - e) / step))
            if k1 < k0:
                continue
            m = np.arange(k0, k1 + 1) * step
        pos = e + np.log10(m)
        out.append(pos[(pos >= lo - 1e-9) & (pos <= hi + 1e-9)])
    return np.unique(np.concatenate(out)) if out else np.zeros(0)


def _candidates(lo: float, hi: float) -> list[np.ndarray]:
    """Tick sets for a span of about a decade or less, sparse to dense."""
    mantissas = ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5), (1, 2, 4, 6, 8), range(1, 10))
    sets = [_mantissa_ticks(lo, hi, m) for m in mantissas]
    for step in (f * 10.0**k for k in range(-1, -13, -1) for f in (5, 2, 1)):  # 0.5, 0.2...
        ticks = _mantissa_ticks(lo, hi, step=step)
        sets.append(ticks)
        if ticks.size > 4 * MAX_LABELS:
            break
    return sets


def log_ticks(lo: float, hi: float, size_px: float) -> tuple[list[float], list[float]]:
    """(labelled, unlabelled) tick positions, in log10 units, for a log axis on [lo, hi].

    Spanning two decades or more: only decades are labelled (every k-th one if they would
    crowd), with 2..9 (or 2 and 5) as unlabelled minor ticks when there is room. Inside
    about a decade: the densest of 1; 1, 3; 1, 2, 5; ...; 1..9; then finer mantissa grids,
    whose labels stay `MIN_LABEL_GAP_PX` apart and number at most `MAX_LABELS`.
    """
    lo, hi = min(lo, hi), max(lo, hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo < 1e-12 or size_px <= 0:
        return [], []
    px = size_px / (hi - lo)  # pixels per decade
    max_labels = max(2, min(MAX_LABELS, int(size_px // MIN_LABEL_GAP_PX)))
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 2:
        for k in (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000):
            major = [float(d) for d in decades if d % k == 0]
            if k * px >= MIN_LABEL_GAP_PX and len(major) <= max_labels:
                break
        if k > 1:
            minor = [float(d) for d in decades if d % k != 0] if px >= MIN_TICK_GAP_PX else []
        else:
            # log10(10/9) ≈ 0.046 decade is the tightest gap between 2..9 ticks.
            mantissas = range(2, 10) if px * 0.046 >= MIN_TICK_GAP_PX else (2, 5)
            minor = _mantissa_ticks(lo, hi, mantissas).tolist() if px >= 4 * MIN_TICK_GAP_PX \
                else []
        return major, minor

    sets = _candidates(lo, hi)

    def fits(ticks: np.ndarray, gap: float, most: int) -> bool:
        return 2 <= ticks.size <= most and bool(np.all(np.diff(ticks) * px >= gap))

    chosen = None
    for i, ticks in enumerate(sets):
        if fits(ticks, MIN_LABEL_GAP_PX, max_labels):
            chosen = i
    if chosen is None:  # nothing fits: the sparsest set with two labels at least
        chosen = next((i for i, t in enumerate(sets) if t.size >= 2), len(sets) - 1)
    major = sets[chosen]
    minor: list[float] = []
    for ticks in sets[chosen + 1:]:
        if ticks.size > major.size and fits(ticks, MIN_TICK_GAP_PX, 10**6):
            minor = [float(v) for v in ticks if np.min(np.abs(major - v)) > 1e-9]
            break
    return major.tolist(), minor


def _digits(mantissas: np.ndarray) -> int:
    """Significant digits that write every mantissa exactly (to 1e-6) and distinctly."""
    for p in range(1, 10):
        text = [f"{m:.{p}g}" for m in mantissas]
        if (len(set(text)) == len(text)
                and all(abs(float(t) - m) <= 1e-6 * abs(m) for t, m in zip(text, mantissas))):
            return p
    return 10


def log_labels(exponents: Sequence[float]) -> list[str]:
    """Labels for ticks at log10 positions, written one way for the whole axis.

    Values from 0.001 to 9999 read as plain decimals ("0.01", "20"); an axis with any
    value outside that reads 10ⁿ throughout ("10⁻⁵", "2×10⁻⁵", "10⁰").
    """
    if len(exponents) == 0:
        return []
    exps = np.asarray(exponents, dtype=float)
    values = 10.0 ** exps
    if np.all((values >= 1e-3 * (1 - 1e-9)) & (values < 1e4)):
        p = _digits(values)
        # Fixed-point with p significant digits ("%g" would write 10 as "1e+01").
        return [f"{v:.{max(0, p - 1 - math.floor(math.log10(v) + 1e-9))}f}" for v in values]
    e = np.floor(exps + 1e-9)
    mantissas = 10.0 ** (exps - e)
    p = _digits(mantissas)
    out = []
    for m, k in zip(mantissas, e):
        power = "10" + str(int(k)).translate(_SUPERSCRIPT)
        text = f"{m:.{p}g}"
        out.append(power if text == "1" else f"{text}×{power}")
    return out


class ValueAxis(pg.AxisItem):
    """Left axis: no SI scale in the label, readable log ticks, width shared with a partner.

    Data on a log axis is already log10 (the view transforms it), so tick values here are
    exponents. The two plots share the step axis; their left axes keep one width, so the
    frame cursor and the steps line up between the plots.
    """

    def __init__(self) -> None:
        super().__init__("left")
        self.enableAutoSIPrefix(False)
        self.group: list[ValueAxis] = [self]
        self._needed = 0

    def tickValues(self, minVal: float, maxVal: float,
                   size: float) -> list[tuple[float | None, list[float]]]:
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        major, minor = log_ticks(minVal, maxVal, size)
        # None marks the unlabelled level (tickStrings returns no text for it).
        return [(1.0, major), (None, minor)]

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float | None) -> list[str]:
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [] if spacing is None else log_labels(values)

    def _updateMaxTextSize(self, x: int) -> None:
        # Same rule as pyqtgraph (grow at once, shrink by 10 px or more), over the group.
        self._needed = x
        needed = max(axis._needed for axis in self.group)
        if needed > self.textWidth or needed < self.textWidth - 10:
            for axis in self.group:
                axis.textWidth = needed
                axis._updateWidth()


class StepAxis(pg.AxisItem):
    """Bottom axis: whole steps only, the last step labelled, labels allowed past the ends."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.enableAutoSIPrefix(False)
        # An int lets a label at either end reach that far out of the axis (a bool would
        # hide any label that crosses the axis' own ends, which is why 0 and the last step
        # went missing).
        self.setStyle(hideOverlappingLabels=STEP_LABEL_OVERFLOW_PX)
        self.last_step: int | None = None

    def tickValues(self, minVal: float, maxVal: float,
                   size: float) -> list[tuple[float | None, list[float]]]:
        levels = [(s, v) for s, v in super().tickValues(minVal, maxVal, size) if s >= 1]
        if not levels:  # zoomed in past single steps
            levels = [(1.0, [float(i) for i in range(math.ceil(minVal),
                                                     math.floor(maxVal) + 1)])]
        end = self.last_step
        if end is None or not minVal <= end <= maxVal or size <= 0:
            return levels
        # The last step becomes a labelled tick; any tick whose label would touch its label
        # keeps its tick mark but loses its label (the None level is drawn unlabelled).
        px_per_step = size / max(maxVal - minVal, 1e-9)
        font = self.style["tickFont"] or self.font()
        room = QFontMetricsF(font).horizontalAdvance(f"{end:d}") + 12.0
        out: list[tuple[float | None, list[float]]] = []
        unlabelled: list[float] = []
        for spacing, values in levels:
            keep = []
            for v in values:
                gap = abs(v - end) * px_per_step
                if gap < room:
                    if abs(v - end) > 1e-6:
                        unlabelled.append(v)
                else:
                    keep.append(v)
            out.append((spacing, keep))
        out[0] = (out[0][0], sorted(out[0][1] + [float(end)]))
        return out + [(None, unlabelled)]

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float | None) -> list[str]:
        return [] if spacing is None else [f"{round(v):d}" for v in values]

    def boundingRect(self) -> QRectF:
        # With the grid on, pyqtgraph's rect is the axis plus the view, ignoring the
        # overflow allowance; labels are only drawn inside this rect.
        m = STEP_LABEL_OVERFLOW_PX
        return super().boundingRect().adjusted(-m, 0, m, 0)


# ----------------------------------------------------------------------------- the view


class _Plot(pg.PlotWidget):
    def __init__(self, ylabel: str) -> None:
        value_axis, step_axis = ValueAxis(), StepAxis()
        super().__init__(axisItems={"left": value_axis, "bottom": step_axis})
        self.value_axis = value_axis
        self.step_axis = step_axis
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        # Room on the right for the last step's label (it may overflow the axis' end).
        plot.layout.setContentsMargins(2, 4, STEP_LABEL_OVERFLOW_PX, 2)
        plot.setLabel("left", ylabel)
        plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.setMinimumHeight(90)
        self.cursor = pg.InfiniteLine(angle=90, movable=True)
        self.cursor.setZValue(50)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.curves: list[pg.PlotDataItem] = []
        self.field = "loss"       # trajectory array shown
        self.log = False          # log10 applied (the user's choice, unless values ≤ 0)
        self.bin_width = 1        # steps per min/max bin in the curves shown


class LossView(QWidget):
    """`LossView(session)`: loss (top) and gradient norm or learning rate (bottom)."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._theme: Theme = theme_for(True)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setChecked(True)
        self.log_check.setToolTip("Log-scale y axes; a plot with values ≤ 0 stays linear")
        self.second_combo = QComboBox()
        self.second_combo.addItems(list(SECOND))
        self.loss_plot = _Plot("loss")
        self.second_plot = _Plot("‖∇f‖")
        self.second_plot.getPlotItem().setXLink(self.loss_plot.getPlotItem())
        self.second_plot.getPlotItem().setLabel("bottom", "step")
        pair = [self.loss_plot.value_axis, self.second_plot.value_axis]
        for axis in pair:
            axis.group = pair

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        bar.addWidget(self.log_check)
        bar.addStretch(1)
        bar.addWidget(QLabel("Lower plot:"))
        bar.addWidget(self.second_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.second_plot, 2)

        # Zooming or resizing re-bins the curves, once the gesture settles.
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(self._refresh_detail)

        self.log_check.toggled.connect(self._redraw)
        self.second_combo.currentTextChanged.connect(self._redraw)
        for p in (self.loss_plot, self.second_plot):
            p.cursor.sigPositionChanged.connect(self._on_cursor_dragged)
            p.getPlotItem().scene().sigMouseClicked.connect(self._make_click_handler(p))
            vb = p.getPlotItem().getViewBox()
            vb.sigXRangeChanged.connect(self._schedule_detail)
            vb.sigResized.connect(self._schedule_detail)
        # Bound methods, not lambdas: PyQt drops them when this view is destroyed.
        session.trajectoryChanged.connect(self._redraw)
        session.sceneChanged.connect(self._recolour)
        session.frameChanged.connect(self._on_frame)
        self.set_dark(True)
        self._redraw()

    # ------------------------------------------------------------------ public API

    def set_dark(self, dark: bool) -> None:
        self._theme = t = theme_for(dark)
        for p in (self.loss_plot, self.second_plot):
            p.setBackground(t.background)
            for name in ("left", "bottom"):
                axis = p.getPlotItem().getAxis(name)
                axis.setPen(pg.mkPen(t.foreground))
                axis.setTextPen(pg.mkPen(t.foreground))
            p.cursor.setPen(pg.mkPen(t.foreground, width=1.5))
            p.cursor.setHoverPen(pg.mkPen(t.foreground, width=3))

    def set_log(self, on: bool) -> None:
        self.log_check.setChecked(on)

    def log(self) -> bool:
        return self.log_check.isChecked()

    def set_second(self, name: str) -> None:
        """'Gradient norm' or 'Learning rate'."""
        self.second_combo.setCurrentText(name)

    # ------------------------------------------------------------------ drawing

    def _redraw(self, *_unused: object) -> None:
        trajectory = self.session.trajectory
        want_log = self.log()
        self.second_plot.field = SECOND[self.second_combo.currentText()]
        if trajectory is not None:
            steps = trajectory.positions.shape[0] - 1
            for p in (self.loss_plot, self.second_plot):
                p.step_axis.last_step = steps
            # Before binning: the bin width follows the visible steps.
            self.loss_plot.getPlotItem().setXRange(0, max(1, steps), padding=0.01)
        for p in (self.loss_plot, self.second_plot):
            p.bin_width = self._bin_width(p, trajectory)
            ys = self._draw_curves(p, trajectory, want_log)
            name = AXIS_NAMES[p.field]
            plot = p.getPlotItem()
            fallback = want_log and not p.log
            plot.setLabel("left", name + (LINEAR_FALLBACK if fallback else ""))
            p.setToolTip(f"Log scale is on, but {name} reaches zero or below, which a log "
                         "axis cannot show: this plot is linear" if fallback else "")
            p.value_axis.setLogMode(p.log)
            span = robust_range(ys)
            if span is not None:
                plot.setYRange(*span, padding=0)
        self._recolour()
        self._on_frame(self.session.frame)

    def _bin_width(self, p: _Plot, trajectory: Trajectory | None) -> int:
        """Steps per bin so that a bin is no wider than one pixel column of the plot."""
        if trajectory is None:
            return 1
        last = trajectory.positions.shape[0] - 1
        vb = p.getPlotItem().getViewBox()
        x0, x1 = vb.viewRange()[0]
        visible = min(x1, last) - max(x0, 0) + 1
        pixels = max(vb.width() * self.devicePixelRatioF(), MIN_DECIMATE_PX)
        return max(1, int(visible // pixels))

    def _draw_curves(self, p: _Plot, trajectory: Trajectory | None,
                     want_log: bool | None = None) -> list[np.ndarray]:
        """Set every run's curve; `want_log` None keeps the plot's scale (a re-bin)."""
        runs = self.session.scene.runs
        slices = [] if trajectory is None else [
            (i, sl) for i, sl in enumerate(trajectory.run_slices) if sl.stop > sl.start]
        while len(p.curves) < len(slices):
            curve = pg.PlotDataItem(connect="finite", antialias=True)
            # Cached as a pixmap: moving the frame cursor then blits the curves instead of
            # re-stroking thousands of antialiased points every frame.
            curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            p.getPlotItem().addItem(curve)
            p.curves.append(curve)
        data = []
        if trajectory is not None:
            values = np.asarray(getattr(trajectory, p.field))
            status = np.asarray(trajectory.status)
            stop = np.asarray(trajectory.stop_step)
            for _, sl in slices:
                # values[:, sl] is a view: the binning reads the trajectory in place.
                data.append(decimate(values[:, sl], stop[sl], status[sl] == DIVERGED,
                                     p.bin_width))
        if want_log is not None:
            p.log = want_log and not any(has_nonpositive(y) for _, y in data)
        ys = []
        for x, y in data:
            if p.log:
                to_log10(y)
            else:
                y[~np.isfinite(y)] = np.nan
            ys.append(y)
        for k, curve in enumerate(p.curves):
            if k >= len(data):
                curve.clear()
                curve.run_index = -1
                continue
            curve.setData(*data[k])
            run = slices[k][0]
            curve.run_index = run if run < len(runs) else -1
            curve.n_balls = slices[k][1].stop - slices[k][1].start
        return ys

    def _schedule_detail(self, *_unused: object) -> None:
        self._detail_timer.start()

    def _refresh_detail(self) -> None:
        """After a zoom or resize: re-bin finer if bins now span more than a pixel, or
        coarser if they are now far finer than needed (a cheaper picture, the same look)."""
        trajectory = self.session.trajectory
        if trajectory is None:
            return
        for p in (self.loss_plot, self.second_plot):
            want = self._bin_width(p, trajectory)
            if want < p.bin_width or want >= 2 * p.bin_width:
                p.bin_width = want
                self._draw_curves(p, trajectory)

    def _recolour(self, *_unused: object) -> None:
        runs = self.session.scene.runs
        for p in (self.loss_plot, self.second_plot):
            for curve in p.curves:
                index = getattr(curve, "run_index", -1)
                if 0 <= index < len(runs):
                    many = getattr(curve, "n_balls", 1) > 16
                    colour = pg.mkColor(runs[index].color)
                    colour.setAlpha(90 if many else 255)
                    curve.setPen(pg.mkPen(colour, width=1 if many else 2))

    # ------------------------------------------------------------------ scrubbing

    def _on_frame(self, frame: int) -> None:
        for p in (self.loss_plot, self.second_plot):
            with QSignalBlocker(p.cursor):
                p.cursor.setValue(frame)

    def _on_cursor_dragged(self, line: pg.InfiniteLine) -> None:
        self.session.set_frame(round(line.value()))

    def _make_click_handler(self, p: _Plot) -> Callable[[object], None]:
        def on_click(event) -> None:
            if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
                return
            vb = p.getPlotItem().getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()):
                self.session.pause()
                self.session.set_frame(round(vb.mapSceneToView(event.scenePos()).x()))
        return on_click
