"""The surface seen from above: shaded heights, isolines, minima, trails, balls and starts.

A click on the map moves the selected run's first start there; each start marker can be
dragged (one undo step per drag). Runs with a start grid show no markers: their balls are
the point, and together they paint the basins of attraction.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtWidgets import QGraphicsItem, QWidget

from studio.gui.session import Session
from studio.gui.theme import Theme, theme_for
from studio.gui.views.heightmap import HeightMap, build_heightmap, isoline_segments
from studio.gui.views.throttle import Throttle
from studio.gui.views.trails import (
    CONVERGED,
    DIVERGED,
    SHORT_TRAIL_BALLS,
    Tracks,
    compact_segments,
    status_at,
    trail_window,
)

MAX_MARKERS = 64  # start markers beyond this are not individually draggable
PIN_PX = 9        # a ball outside the domain is drawn at least this far inside the view's edge
MARKER_Z, SELECTED_MARKER_Z = 30, 31  # the selected run's starts on top: a press picks them


class ContourView(pg.PlotWidget):
    """`ContourView(session)`: a 2D map bound to the session."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._theme: Theme = theme_for(True)
        self._trail_length: int | None = None
        self._heightmap: HeightMap | None = None
        self._hm_key: tuple[object, str] | None = None
        self._tracks: Tracks | None = None
        self._syncing = False
        self._drag_serial = 0
        self._markers: list[tuple[int, int, pg.TargetItem]] = []
        self._brushes = np.empty(0, dtype=object)

        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setAspectLocked(True)
        # Room on the right for the last x tick label (pyqtgraph clips it at the edge).
        plot.layout.setContentsMargins(2, 4, 14, 2)
        plot.showGrid(False, False)
        self.setMinimumSize(160, 140)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.isolines = pg.PlotDataItem(connect="pairs", antialias=True)
        self.minima = pg.ScatterPlotItem(symbol="star", size=17, pxMode=True)
        self.balls = pg.ScatterPlotItem(size=11, pxMode=True)
        self.rings = pg.ScatterPlotItem(symbol="o", size=19, pxMode=True, brush=None)
        self.crosses = pg.ScatterPlotItem(symbol="x", size=15, pxMode=True)
        for item in (self.image, self.isolines, self.minima):
            plot.addItem(item)
        self._trail_items: list[pg.PlotDataItem] = []
        for item in (self.rings, self.balls, self.crosses):
            plot.addItem(item)
        self.rings.setZValue(20)
        self.balls.setZValue(20)
        self.crosses.setZValue(21)  # a diverged ball's × over the ball itself
        self.image.setZValue(-10)
        # The backdrop never changes per frame: cache it so a frame repaints only the balls.
        for item in (self.image, self.isolines.curve, self.minima):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.minima.setZValue(15)

        # A slider drag changes the surface many times a frame: shading and isolines are
        # rebuilt at most once per frame interval, always for the newest surface.
        self._rebuild = Throttle(self._maybe_rebuild, parent=self)
        plot.scene().sigMouseClicked.connect(self._on_click)
        # Bound methods, not lambdas: PyQt drops them when this view is destroyed.
        session.surfaceChanged.connect(self._on_surface)
        session.sceneChanged.connect(self._on_scene)
        session.trajectoryChanged.connect(self._on_trajectory)
        session.frameChanged.connect(self._on_frame)
        session.selectedRunChanged.connect(self._on_selected)
        self.set_dark(True)
        self._maybe_rebuild()
        self._sync_markers()
        if session.trajectory is not None:
            self._on_trajectory(session.trajectory)

    # ------------------------------------------------------------------ public API

    def set_dark(self, dark: bool) -> None:
        self._theme = t = theme_for(dark)
        self.setBackground(t.background)
        plot = self.getPlotItem()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(t.foreground))
            axis.setTextPen(pg.mkPen(t.foreground))
        self.isolines.setPen(pg.mkPen(t.grid, width=1))
        self.minima.setPen(pg.mkPen(t.outline, width=1.2))
        self.minima.setBrush(pg.mkBrush("#ffffff"))
        self.rings.setPen(pg.mkPen(t.converged, width=2))
        self.crosses.setPen(pg.mkPen(t.diverged, width=3))
        self.crosses.setBrush(pg.mkBrush(t.diverged))
        self.balls.setPen(pg.mkPen(t.outline, width=1.5))
        self._sync_markers()

    def set_trail_length(self, n: int | None) -> None:
        self._trail_length = None if n is None else max(0, int(n))
        self._on_frame(self.session.frame)

    def reset_view(self) -> None:
        if self._heightmap is not None:
            xmin, xmax, ymin, ymax = self._heightmap.domain
            self.getPlotItem().setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.02)

    # ------------------------------------------------------------------ surface

    def _on_surface(self, _surface) -> None:
        self._rebuild.request()

    def _on_selected(self, _index: int) -> None:
        self._sync_markers()

    def _on_scene(self, _scene) -> None:
        self._rebuild.request()
        self._sync_markers()

    def _maybe_rebuild(self) -> None:
        surface, height = self.session.surface, self.session.scene.surface.height
        if self._hm_key is not None and self._hm_key[0] is surface and self._hm_key[1] == height:
            return
        self._hm_key = (surface, height)
        hm = self._heightmap = build_heightmap(surface, height)
        xmin, xmax, ymin, ymax = hm.domain
        self.image.setImage(hm.h, levels=(0.0, hm.h_max))
        self.image.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        segs = isoline_segments(hm.xs, hm.ys, hm.h, hm.levels())
        flat = segs.reshape(-1, 2)
        if len(flat):
            self.isolines.setData(flat[:, 0], flat[:, 1])
        else:
            self.isolines.clear()
        minima = np.array([(m[0], m[1]) for m in getattr(surface, "minima", ())], float)
        self.minima.setData(pos=minima.reshape(-1, 2))
        self.getPlotItem().getViewBox().setLimits(
            xMin=xmin - (xmax - xmin), xMax=xmax + (xmax - xmin),
            yMin=ymin - (ymax - ymin), yMax=ymax + (ymax - ymin))
        self.reset_view()
        if self.session.trajectory is not None:
            self._on_trajectory(self.session.trajectory)

    # ------------------------------------------------------------------ trajectory

    def _on_trajectory(self, trajectory) -> None:
        if self._heightmap is None:
            return
        runs = self.session.scene.runs
        self._tracks = Tracks(trajectory, self._heightmap.domain, len(runs))
        plot = self.getPlotItem()
        while len(self._trail_items) < len(self._tracks.runs):
            item = pg.PlotDataItem(connect="pairs", antialias=True)
            item.setZValue(10)
            plot.addItem(item)
            self._trail_items.append(item)
        brushes = np.empty(trajectory.positions.shape[1], dtype=object)
        for k, item in enumerate(self._trail_items):
            if k < len(self._tracks.runs):
                rt = self._tracks.runs[k]
                many = rt.n > SHORT_TRAIL_BALLS
                colour = pg.mkColor(runs[rt.run].color)
                colour.setAlpha(110 if many else 235)
                item.setPen(pg.mkPen(colour, width=1 if many else 2.2))
                brushes[rt.cols] = pg.mkBrush(runs[rt.run].color)
            else:
                item.clear()
        self._brushes = brushes
        self._on_frame(self.session.frame)

    def ball_positions(self, frame: int) -> np.ndarray:
        """(N, 2) where the balls are drawn at `frame`: a ball outside the domain is pinned
        at its edge, and kept `PIN_PX` pixels inside the visible range, so the ball and its
        status marker show whole."""
        tracks = self._tracks
        assert tracks is not None
        pos, pinned, _f = tracks.frame(frame)
        if pinned.any():
            vb = self.getPlotItem().getViewBox()
            (vx0, vx1), (vy0, vy1) = vb.viewRange()
            px, py = (abs(v) for v in vb.viewPixelSize())
            xmin, xmax, ymin, ymax = tracks.domain
            for axis, lo, hi in ((0, max(xmin, vx0 + PIN_PX * px), min(xmax, vx1 - PIN_PX * px)),
                                 (1, max(ymin, vy0 + PIN_PX * py), min(ymax, vy1 - PIN_PX * py))):
                if lo <= hi:
                    pos[pinned, axis] = np.clip(pos[pinned, axis], lo, hi)
        return pos

    def _on_frame(self, frame: int) -> None:
        trajectory = self.session.trajectory
        tracks = self._tracks
        if trajectory is None or tracks is None or not tracks.runs:
            self.balls.clear()
            self.rings.clear()
            self.crosses.clear()
            return
        frame = min(frame, tracks.frames - 1)
        for item, rt in zip(self._trail_items, tracks.runs):
            start = trail_window(frame, self._trail_length, rt.n)
            segs = None
            if frame > start:
                xy, _f, ok = tracks.window(rt, start, frame + 1)
                segs, _ = compact_segments(xy, ok)
            if segs is not None and len(segs):
                flat = segs.reshape(-1, 2)
                # A start grid's hundreds of thin tails: plain lines paint in half the time.
                item.setData(flat[:, 0], flat[:, 1], antialias=rt.n <= SHORT_TRAIL_BALLS,
                             skipFiniteCheck=True)
            else:
                item.clear()
        pos = self.ball_positions(frame)
        self.balls.setData(pos=pos, brush=self._brushes)
        status = status_at(trajectory, frame)
        self.rings.setData(pos=pos[status == CONVERGED])
        self.crosses.setData(pos=pos[status == DIVERGED])

    def set_time(self, t: float) -> None:
        """Draw the run at fractional step `t` (an export's frame between two steps): the
        balls glide from step ⌊t⌋ to the next, each trail reaching to its ball. The window
        plays whole steps (`frameChanged`); this is for the offscreen renderer."""
        tracks = self._tracks
        if self.session.trajectory is None or tracks is None or not tracks.runs:
            return
        t = min(max(float(t), 0.0), float(tracks.frames - 1))
        k = int(np.floor(t + 1e-9))
        self._on_frame(k)
        frac = t - k
        if frac <= 1e-6 or k + 1 >= tracks.frames:
            return
        a, b = self.ball_positions(k), self.ball_positions(k + 1)
        pos = a + (b - a) * frac
        self.balls.setData(pos=pos, brush=self._brushes)
        status = status_at(self.session.trajectory, k)
        self.rings.setData(pos=pos[status == CONVERGED])
        self.crosses.setData(pos=pos[status == DIVERGED])
        for item, rt in zip(self._trail_items, tracks.runs):
            cols = rt.ball_index
            tips = np.stack([a[cols], pos[cols]], 1).reshape(-1, 2)
            x, y = item.getData()
            if x is not None and len(x):
                tips = np.concatenate([np.stack([x, y], 1), tips])
            item.setData(tips[:, 0], tips[:, 1], antialias=rt.n <= SHORT_TRAIL_BALLS,
                         skipFiniteCheck=True)

    # ------------------------------------------------------------------ starts

    def _sync_markers(self) -> None:
        """One draggable marker per listed start; only the selected run's are bright."""
        scene = self.session.scene
        wanted = [(i, j, p) for i, run in enumerate(scene.runs) if run.enabled and run.grid is None
                  for j, p in enumerate(run.starts)][:MAX_MARKERS]
        plot = self.getPlotItem()
        self._syncing = True
        try:
            while len(self._markers) > len(wanted):
                plot.removeItem(self._markers.pop()[2])
            while len(self._markers) < len(wanted):
                marker = pg.TargetItem(size=13, symbol="crosshair", movable=True)
                marker.sigPositionChanged.connect(self._on_marker_moved)
                marker.sigPositionChangeFinished.connect(self._on_marker_released)
                plot.addItem(marker)
                self._markers.append((0, 0, marker))
            for k, (i, j, p) in enumerate(wanted):
                marker = self._markers[k][2]
                self._markers[k] = (i, j, marker)
                selected = i == self.session.selected_run
                look = (scene.runs[i].color, selected)
                if getattr(marker, "look", None) != look:  # unchanged: no repaint of the map
                    marker.look = look
                    marker.setZValue(SELECTED_MARKER_Z if selected else MARKER_Z)
                    colour = pg.mkColor(scene.runs[i].color)
                    colour.setAlpha(255 if selected else 150)
                    marker.setPen(pg.mkPen(colour, width=2.5 if selected else 1.5))
                    marker.setBrush(pg.mkBrush(0, 0, 0, 0))
                current = marker.pos()
                if (current.x(), current.y()) != (p[0], p[1]):
                    marker.setPos(QPointF(p[0], p[1]))
        finally:
            self._syncing = False

    def _on_marker_moved(self, marker: pg.TargetItem) -> None:
        if self._syncing:
            return
        for i, j, m in self._markers:
            if m is marker:
                pos = marker.pos()
                self._move_start(i, j, pos.x(), pos.y(), merge_key=f"drag-{self._drag_serial}")
                return

    def _on_marker_released(self, _marker: pg.TargetItem) -> None:
        self._drag_serial += 1  # the next drag is a new undo step

    def _move_start(self, run_index: int, start_index: int, x: float, y: float,
                    merge_key: str | None = None) -> None:
        run = self.session.scene.runs[run_index]
        starts = list(run.starts)
        starts[start_index] = (float(x), float(y))
        self.session.update_run(run_index, "Move start", merge_key=merge_key,
                                starts=tuple(starts))

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        index = self.session.selected_run
        if self._heightmap is None or not 0 <= index < len(self.session.scene.runs):
            return
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point = vb.mapSceneToView(event.scenePos())
        xmin, xmax, ymin, ymax = self._heightmap.domain
        if not (xmin <= point.x() <= xmax and ymin <= point.y() <= ymax):
            return
        run = self.session.scene.runs[index]
        if run.grid is not None:
            return
        self._move_start(index, 0, point.x(), point.y())
        event.accept()
