"""Loss against step for every run, and a second plot of gradient norm or learning rate.

One curve item per run: its balls are joined into one array with NaN breaks, so a start
grid of a thousand balls is still one item. A diverged ball's curve stops at its
divergence step (its later values are meaningless and would wreck the axis range). The
vertical cursor marks the frame shown; drag it, or click a plot, to scrub.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSignalBlocker, Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from studio.gui.session import Session
from studio.gui.theme import Theme, theme_for
from studio.gui.views.trails import DIVERGED

SECOND = {"Gradient norm": "grad_norm", "Learning rate": "lr"}


def curve_arrays(values: np.ndarray, stop: np.ndarray, diverged: np.ndarray,
                 log: bool) -> tuple[np.ndarray, np.ndarray]:
    """(T+1, n) per-ball values → x, y joined ball after ball with a NaN between balls."""
    steps, n = values.shape
    y = np.array(values, dtype=float, copy=True)
    t = np.arange(steps)[:, None]
    y[(t > stop[None, :]) & diverged[None, :]] = np.nan
    with np.errstate(all="ignore"):
        if log:
            y = np.where(y > 0, np.log10(y), np.nan)
        y[~np.isfinite(y)] = np.nan
    x = np.broadcast_to(np.arange(steps + 1, dtype=float)[:, None], (steps + 1, n)).copy()
    x[-1] = np.nan
    y = np.vstack([y, np.full((1, n), np.nan)])
    return x.T.ravel(), y.T.ravel()


def robust_range(ys: list[np.ndarray]) -> tuple[float, float] | None:
    """A y range that one runaway value cannot flatten: up to the 99.5th percentile."""
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


class _Plot(pg.PlotWidget):
    def __init__(self, ylabel: str) -> None:
        super().__init__()
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        # Room on the right for the last x tick label (pyqtgraph clips it at the edge).
        plot.layout.setContentsMargins(2, 4, 14, 2)
        plot.setLabel("left", ylabel)
        plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.setMinimumHeight(90)
        self.cursor = pg.InfiniteLine(angle=90, movable=True)
        self.cursor.setZValue(50)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.curves: list[pg.PlotDataItem] = []


class LossView(QWidget):
    """`LossView(session)`: loss (top) and gradient norm or learning rate (bottom)."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._theme: Theme = theme_for(True)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setChecked(True)
        self.second_combo = QComboBox()
        self.second_combo.addItems(list(SECOND))
        self.loss_plot = _Plot("loss")
        self.second_plot = _Plot("‖∇f‖")
        self.second_plot.getPlotItem().setXLink(self.loss_plot.getPlotItem())
        self.second_plot.getPlotItem().setLabel("bottom", "step")

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

        self.log_check.toggled.connect(self._redraw)
        self.second_combo.currentTextChanged.connect(self._redraw)
        for p in (self.loss_plot, self.second_plot):
            p.cursor.sigPositionChanged.connect(self._on_cursor_dragged)
            p.getPlotItem().scene().sigMouseClicked.connect(self._make_click_handler(p))
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
        log = self.log()
        key = SECOND[self.second_combo.currentText()]
        self.second_plot.getPlotItem().setLabel("left", "‖∇f‖" if key == "grad_norm" else "lr")
        for p, field in ((self.loss_plot, "loss"), (self.second_plot, key)):
            p.getPlotItem().getAxis("left").setLogMode(log)
            ys = self._draw_curves(p, trajectory, field, log)
            span = robust_range(ys)
            if span is not None:
                p.getPlotItem().setYRange(*span, padding=0)
        if trajectory is not None:
            steps = trajectory.positions.shape[0] - 1
            self.loss_plot.getPlotItem().setXRange(0, max(1, steps), padding=0.01)
        self._recolour()
        self._on_frame(self.session.frame)

    def _draw_curves(self, p: _Plot, trajectory, field: str, log: bool) -> list[np.ndarray]:
        runs = self.session.scene.runs
        ball_run = np.zeros(0, int) if trajectory is None else np.asarray(trajectory.ball_run)
        present = sorted(set(ball_run.tolist()))
        while len(p.curves) < len(present):
            curve = pg.PlotDataItem(connect="finite", antialias=True)
            # Cached as a pixmap: moving the frame cursor then blits the curves instead of
            # re-stroking thousands of antialiased points every frame.
            curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            p.getPlotItem().addItem(curve)
            p.curves.append(curve)
        ys = []
        for k, curve in enumerate(p.curves):
            if k >= len(present):
                curve.clear()
                continue
            mine = ball_run == present[k]
            values = np.asarray(getattr(trajectory, field))[:, mine]
            stop = np.asarray(trajectory.stop_step)[mine]
            diverged = np.asarray(trajectory.status)[mine] == DIVERGED
            x, y = curve_arrays(values, stop, diverged, log)
            ys.append(y)
            curve.setData(x, y)
            curve.run_index = present[k] if present[k] < len(runs) else -1
        return ys

    def _recolour(self, *_unused: object) -> None:
        runs = self.session.scene.runs
        for p in (self.loss_plot, self.second_plot):
            for curve in p.curves:
                index = getattr(curve, "run_index", -1)
                if 0 <= index < len(runs):
                    many = np.count_nonzero(np.asarray(self.session.trajectory.ball_run)
                                            == index) > 16
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

    def _make_click_handler(self, p: _Plot):
        def on_click(event) -> None:
            if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
                return
            vb = p.getPlotItem().getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()):
                self.session.pause()
                self.session.set_frame(round(vb.mapSceneToView(event.scenePos()).x()))
        return on_click
