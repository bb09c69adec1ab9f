"""Loss against step for every run, and a second plot of gradient norm or learning rate.

One curve item per run: its balls are joined into one array with NaN breaks, so a start
grid of a thousand balls is still one item, and past a budget of points per plot
(`MAX_PLOT_POINTS`) a run draws an evenly spaced subset of its balls. A diverged ball's
curve stops at its divergence step (its later values are meaningless and would wreck the
axis range). The vertical cursor marks the frame shown; drag it, or click a plot, to scrub.

Long runs are decimated to what the screen can show: each bin of steps narrower than a
pixel column is drawn as its minimum and maximum, so the picture is the same as drawing
every step at a fraction of the cost; zooming in on the step axis re-bins finer.

Log scale is honest: a plot whose values include zero or negatives (saddles, the six-hump
camel) falls back to a linear axis and says so in its label, instead of silently dropping
those points. Tick labels never carry pyqtgraph's automatic SI scale ("x1e+12"), and a log
axis labels decades (or a few well-spaced values inside one decade), never every minor tick.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSignalBlocker, Qt, QTimer
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
from studio.gui.views.curves import decimate, has_nonpositive, robust_range, to_log10
from studio.gui.views.plot_axes import STEP_LABEL_OVERFLOW_PX, StepAxis, ValueAxis
from studio.gui.views.trails import DIVERGED

# The last two exist on a network scene's trajectory only (studio.network.landscape); on a
# surface scene they plot nothing.
SECOND = {
    "Gradient norm": "grad_norm",
    "Learning rate": "lr",
    "Validation loss": "val_loss",
    "Accuracy": "accuracy",
}
AXIS_NAMES = {
    "loss": "loss",
    "grad_norm": "‖∇f‖",
    "lr": "lr",
    # Short: the lower plot's axis title must fit its height in a small export.
    "val_loss": "val. loss",
    "accuracy": "val. accuracy",
}
# Short enough for the axis of a 720p composite; the tooltip says why the axis is linear.
LINEAR_FALLBACK = " (linear)"
# A share between 0 and 1 reads on a linear axis whatever the loss plot's scale.
ALWAYS_LINEAR = frozenset({"accuracy"})

# Points drawn per plot at most (over all runs): a 64×64 start grid's 4,096 curves drew
# millions of antialiased points into one path. Past it, a run shows every k-th ball.
MAX_PLOT_POINTS = 400_000
MIN_DECIMATE_PX = 300.0  # assumed plot width before the widget is laid out
DETAIL_DELAY_MS = 40  # re-bin this long after the last zoom or resize, not on every event
EMPTY_RANGE = (0.0, 1.0)  # y range of a plot with no finite value (1 to 10 on a log axis)


# ----------------------------------------------------------------------------- the view


def _up_to(x: np.ndarray, y: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Curves (balls joined by NaN breaks, x ascending within each) cut at x = t, each
    ending exactly at t on the line between the points either side (a smooth growth)."""
    with np.errstate(invalid="ignore"):
        keep = x <= t
        after = np.zeros_like(keep)
        after[1:] = keep[:-1] & (x[1:] > t)
    xs = np.where(keep, x, np.nan)
    ys = np.where(keep, y, np.nan)
    j = np.flatnonzero(after)
    if j.size:
        x0, x1, y0, y1 = x[j - 1], x[j], y[j - 1], y[j]
        w = (t - x0) / (x1 - x0)
        xs[j] = t
        ys[j] = y0 + w * (y1 - y0)
    return xs, ys


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
        self.field = "loss"  # trajectory array shown
        self.ghosts: list[pg.PlotDataItem] = []  # the curves' future while they unfold
        self.log = False  # log10 applied (the user's choice, unless values ≤ 0)
        self.bin_width = 1  # steps per min/max bin in the curves shown


class LossView(QWidget):
    """`LossView(session)`: loss (top) and gradient norm or learning rate (bottom)."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._theme: Theme = theme_for(True)
        self._unfold: tuple[bool, bool] = (False, False)  # (grow with time, ghost future)
        self._time: float | None = None
        self.log_check = QCheckBox("Log scale")
        self.log_check.setChecked(True)
        self.log_check.setToolTip("Log-scale y axes; a plot with values ≤ 0 stays linear")
        self.second_combo = QComboBox()
        self.second_combo.addItems(list(SECOND))
        self.second_combo.setToolTip(
            "What the lower plot shows against the step: the "
            "gradient norm ‖∇f‖ or the learning rate η"
        )
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
        self._recolour()  # each theme draws a run's colour its own way (Theme.run_color)

    def set_log(self, on: bool) -> None:
        self.log_check.setChecked(on)

    def log(self) -> bool:
        return self.log_check.isChecked()

    def set_second(self, name: str) -> None:
        """A key of SECOND: 'Gradient norm', 'Learning rate', 'Validation loss', 'Accuracy'."""
        self.second_combo.setCurrentText(name)

    def set_unfold(self, on: bool, ghost: bool = False) -> None:
        """Curves that grow with the animation (an export must not give the ending away):
        each curve reaches only to the time shown (`set_time`); `ghost` draws the rest of it
        faintly."""
        self._unfold = (bool(on), bool(on) and bool(ghost))
        self._show_time(self.session.frame if self._time is None else self._time)

    def set_time(self, t: float) -> None:
        """Show fractional step `t` (an export's frame between two steps): the cursor there
        and, unfolding, every curve up to it."""
        self._time = float(t)
        self._show_time(self._time)

    def _show_time(self, t: float) -> None:
        for p in (self.loss_plot, self.second_plot):
            with QSignalBlocker(p.cursor):
                p.cursor.setValue(t)
            if not self._unfold[0]:
                continue
            for curve in p.curves:
                full = getattr(curve, "full", None)
                if full is None:
                    continue
                curve.setData(*_up_to(full[0], full[1], t))
            self._sync_ghosts(p)

    def _sync_ghosts(self, p: _Plot) -> None:
        want = self._unfold[1]
        while want and len(p.ghosts) < len(p.curves):
            ghost = pg.PlotDataItem(connect="finite", antialias=True)
            ghost.setZValue(-1)
            p.getPlotItem().addItem(ghost)
            p.ghosts.append(ghost)
        for ghost, curve in zip(p.ghosts, p.curves, strict=False):
            full = getattr(curve, "full", None) if want else None
            if full is None:
                ghost.clear()
                ghost.source = None
                continue
            if getattr(ghost, "source", None) is not full:
                ghost.source = full
                ghost.setData(*full)
                colour = pg.mkColor(
                    curve.opts["pen"].color() if curve.opts.get("pen") is not None else "#888888"
                )
                colour.setAlpha(55)
                ghost.setPen(pg.mkPen(colour, width=1.5))

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
            fallback = want_log and not p.log and p.field not in ALWAYS_LINEAR
            plot.setLabel("left", name + (LINEAR_FALLBACK if fallback else ""))
            p.setToolTip(
                f"Log scale is on, but {name} reaches zero or below, which a log "
                "axis cannot show: this plot is linear"
                if fallback
                else ""
            )
            p.value_axis.setLogMode(p.log)
            # With nothing finite to show, a range of its own: the last one may be a linear
            # range in the millions, which a log axis would read as millions of decades.
            span = robust_range(ys) or EMPTY_RANGE
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

    def _draw_curves(
        self, p: _Plot, trajectory: Trajectory | None, want_log: bool | None = None
    ) -> list[np.ndarray]:
        """Set every run's curve; `want_log` None keeps the plot's scale (a re-bin)."""
        runs = self.session.scene.runs
        slices = (
            []
            if trajectory is None
            else [(i, sl) for i, sl in enumerate(trajectory.run_slices) if sl.stop > sl.start]
        )
        while len(p.curves) < len(slices):
            curve = pg.PlotDataItem(connect="finite", antialias=True)
            # Cached as a pixmap: moving the frame cursor then blits the curves instead of
            # re-stroking thousands of antialiased points every frame.
            curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            p.getPlotItem().addItem(curve)
            p.curves.append(curve)
        data = []
        if trajectory is not None and hasattr(trajectory, p.field):
            values = np.asarray(getattr(trajectory, p.field))
            status = np.asarray(trajectory.status)
            stop = np.asarray(trajectory.stop_step)
            steps = values.shape[0]
            per_ball = min(steps, 2 * -(-steps // p.bin_width)) + 1  # points one curve takes
            budget = max(MAX_PLOT_POINTS // max(1, len(slices)), per_ball)
            for _, sl in slices:
                # A run of more balls than its share of the point budget draws every k-th
                # ball: the bundle looks the same, and memory and paint time stay bounded.
                stride = -(-(sl.stop - sl.start) * per_ball // budget)
                cols = slice(sl.start, sl.stop, max(1, stride))
                # values[:, cols] is a view: the binning reads the trajectory in place.
                data.append(
                    decimate(values[:, cols], stop[cols], status[cols] == DIVERGED, p.bin_width)
                )
        if want_log is not None:
            p.log = (
                want_log
                and p.field not in ALWAYS_LINEAR
                and not any(has_nonpositive(y) for _, y in data)
            )
        ys = []
        for _x, y in data:
            if p.log:
                to_log10(y)
            else:
                y[~np.isfinite(y)] = np.nan
            ys.append(y)
        for k, curve in enumerate(p.curves):
            if k >= len(data):
                curve.clear()
                curve.full = None
                curve.run_index = -1
                continue
            curve.full = data[k]  # the whole curve, what an unfolding export cuts from
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
                    look = (self._theme.run_color(runs[index].color), many)
                    if getattr(curve, "look", None) == look:
                        continue  # an edit that keeps the colours must not repaint the plot
                    curve.look = look
                    colour = pg.mkColor(look[0])
                    colour.setAlpha(90 if many else 255)
                    curve.setPen(pg.mkPen(colour, width=1 if many else 2))

    # ------------------------------------------------------------------ scrubbing

    def _on_frame(self, frame: int) -> None:
        if self._unfold[0]:
            self._time = float(frame)
            self._show_time(self._time)
            return
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
