"""The surface seen from above: shaded heights, isolines, minima, trails, balls and starts.

A click on the map moves the selected run's first start there; each start marker can be
dragged (one undo step per drag). Runs with a start grid show no markers: their balls are
the point, and together they paint the basins of attraction.

Reading aids (docs/architecture.md#views): balls at one spot grow rings round each other;
a ball outside the domain is drawn at the edge it left by with an arrow pointing the way
it went and its state ("diverged" / "outside"); the axes are named after the surface's
coordinates and a colour bar gives the loss the colours stand for.

Where f is undefined (log(x) for x ≤ 0) the map has no colour and no isolines: the plot's
background shows through, crossed by thin hatching, and a start cannot be put there
(docs/algorithms.md#undefined-regions).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QPainterPath, QTransform
from PyQt6.QtWidgets import QGraphicsItem, QWidget

from studio.engine.starts import start_problems
from studio.gui.session import Session
from studio.gui.theme import Theme, theme_for
from studio.gui.views.heightmap import (
    DRAG_GRID_SIZE,
    GRID_SIZE,
    HeightMap,
    axis_names,
    build_heightmap,
    isoline_segments,
    loss_ticks,
)
from studio.gui.views.throttle import Throttle
from studio.gui.views.trails import (
    CONVERGED,
    DIVERGED,
    SHORT_TRAIL_BALLS,
    Repeats,
    RunTrack,
    Tracks,
    coincident_rings,
    compact_segments,
    edge_marks,
    status_at,
    trail_window,
)

MAX_MARKERS = 64  # start markers beyond this are not individually draggable
PIN_PX = 9  # a ball outside the domain is drawn at least this far inside the view's edge
MARKER_Z, SELECTED_MARKER_Z = 30, 31  # the selected run's starts on top: a press picks them
BALL_PX, RING_PX, CONVERGED_PX = 11, 5, 19
ARROW_PX = 46  # the arrow symbol's box; the arrow ends just inside a ball's ring
MAX_EDGE_LABELS = 8
COINCIDENT = 0.006  # balls nearer than this share of the domain count as one spot
COLORBAR_PX = 14
HATCH_EVERY = 6  # grid cells between two hatch lines across a hole
HATCH_ALPHA = 110


def hatch_segments(xs: np.ndarray, ys: np.ndarray, defined: np.ndarray) -> np.ndarray:
    """(M, 2, 2) diagonal hatch lines over the grid cells with an undefined corner.

    Each such cell (i, j) with (i + j) a multiple of `HATCH_EVERY` gets its anti-diagonal;
    those of one anti-diagonal join end to end, so the hole is crossed by straight lines
    that follow it exactly, at the grid's resolution, in data coordinates (they scale with
    zoom, unlike a brush pattern).
    """
    whole = defined[:-1, :-1] & defined[1:, :-1] & defined[1:, 1:] & defined[:-1, 1:]
    diagonal = np.add.outer(np.arange(whole.shape[0]), np.arange(whole.shape[1]))
    i, j = np.nonzero(~whole & (diagonal % HATCH_EVERY == 0))
    if not i.size:
        return np.zeros((0, 2, 2))
    start = np.column_stack([xs[i], ys[j + 1]])
    end = np.column_stack([xs[i + 1], ys[j]])
    return np.stack([start, end], 1)


def arrow_path(degrees: float) -> QPainterPath:
    """A symbol (unit box, y down) of an arrow pointing at the box's centre from the
    side opposite `degrees` (counter-clockwise from +x, y up): drawn at a ball, it points
    the way the ball went."""
    path = QPainterPath()
    tip, base, half, shaft, tail = -0.24, -0.36, 0.10, 0.035, -0.5
    path.moveTo(tip, 0.0)
    path.lineTo(base, -half)
    path.lineTo(base, -shaft)
    path.lineTo(tail, -shaft)
    path.lineTo(tail, shaft)
    path.lineTo(base, shaft)
    path.lineTo(base, half)
    path.closeSubpath()
    # Symbols are drawn y down: a direction at +θ (y up) is a turn of −θ on screen.
    return QTransform().rotate(-degrees).map(path)


_ARROWS: dict[int, QPainterPath] = {}


def _arrow(direction: np.ndarray) -> QPainterPath:
    """The arrow for a unit direction, its angle rounded to 5° (symbols are cached)."""
    key = round(math.degrees(math.atan2(direction[1], direction[0])) / 5.0) * 5 % 360
    if key not in _ARROWS:
        _ARROWS[key] = arrow_path(float(key))
    return _ARROWS[key]


class ContourView(pg.PlotWidget):
    """`ContourView(session)`: a 2D map bound to the session."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._theme: Theme = theme_for(True)
        self._trail_length: int | None = None
        self._heightmap: HeightMap | None = None
        self._hm_key: tuple[object, str] | None = None
        self._hm_coarse = False  # the grid was built at DRAG_GRID_SIZE (during a drag)
        self._named: tuple[tuple[str, str], bool] | None = None  # the axes' names as shown
        self._colorbar_ticks: list[tuple[float, str]] | None = None
        self._tracks: Tracks | None = None
        self._repeats: list[Repeats] = []  # per run of `_tracks`
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
        self.hatch = pg.PlotDataItem(connect="pairs", antialias=True)  # over holes of f
        self.minima = pg.ScatterPlotItem(symbol="star", size=17, pxMode=True)
        self.balls = pg.ScatterPlotItem(size=BALL_PX, pxMode=True)
        self.rings = pg.ScatterPlotItem(symbol="o", size=CONVERGED_PX, pxMode=True, brush=None)
        self.crosses = pg.ScatterPlotItem(symbol="x", size=15, pxMode=True)
        self.arrows = pg.ScatterPlotItem(size=ARROW_PX, pxMode=True)
        for item in (self.hatch, self.image, self.isolines, self.minima):
            plot.addItem(item)
        self._trail_items: list[pg.PlotDataItem] = []
        for item in (self.rings, self.balls, self.crosses, self.arrows):
            plot.addItem(item)
        self.rings.setZValue(20)
        self.balls.setZValue(20)
        self.crosses.setZValue(21)  # a diverged ball's × over the ball itself
        self.arrows.setZValue(21)
        self._labels: list[pg.TextItem] = []
        self._axes = True
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0),
            width=COLORBAR_PX,
            colorMap=pg.colormap.get("viridis"),
            label="loss",
            interactive=False,
            colorMapMenu=False,
        )
        self.colorbar.setImageItem(self.image, insert_in=plot)
        self.image.setZValue(-10)
        self.hatch.setZValue(-11)  # seen only where the image is transparent: the holes
        # The backdrop never changes per frame: cache it so a frame repaints only the balls.
        for item in (self.image, self.isolines.curve, self.hatch.curve, self.minima):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.minima.setZValue(15)

        # A slider drag changes the surface many times a frame: shading and isolines are
        # rebuilt at most once per frame interval, always for the newest surface.
        self._rebuild = Throttle(
            self._maybe_rebuild, parent=self, dragging=session.dragging_surface
        )
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
        hatch = pg.mkColor(t.foreground)
        hatch.setAlpha(HATCH_ALPHA)
        self.hatch.setPen(pg.mkPen(hatch, width=1))
        self.minima.setPen(pg.mkPen(t.outline, width=1.2))
        self.minima.setBrush(pg.mkBrush("#ffffff"))
        self.rings.setPen(pg.mkPen(t.converged, width=2))
        self.crosses.setPen(pg.mkPen(t.diverged, width=3))
        self.crosses.setBrush(pg.mkBrush(t.diverged))
        self.balls.setPen(pg.mkPen(t.outline, width=1.5))
        self.arrows.setPen(pg.mkPen(t.outline, width=1.2))
        bar_axis = self.colorbar.axis
        bar_axis.setPen(pg.mkPen(t.foreground))
        bar_axis.setTextPen(pg.mkPen(t.foreground))
        self._name_axes(force=True)  # in the new theme's colour
        self._sync_markers()
        self._on_frame(self.session.frame)

    def set_trail_length(self, n: int | None) -> None:
        self._trail_length = None if n is None else max(0, int(n))
        self._on_frame(self.session.frame)

    def set_colorbar(self, on: bool) -> None:
        """Show the colour bar (the loss each colour stands for) beside the map."""
        plot = self.getPlotItem()
        bar = self.colorbar
        shown = bar.scene() is not None and bar.isVisible()
        if bool(on) == shown:
            return
        if on:
            plot.layout.addItem(bar, 2, 5)
            bar.show()
        else:
            plot.layout.removeItem(bar)
            bar.hide()

    def colorbar_shown(self) -> bool:
        return self.colorbar.isVisible()

    def set_axes(self, on: bool) -> None:
        """Name the axes after the surface's coordinates (x, y; w, b for a data fit)."""
        self._axes = bool(on)
        self._name_axes()

    def axes(self) -> bool:
        return self._axes

    def _name_axes(self, force: bool = False) -> None:
        plot = self.getPlotItem()
        names = axis_names(self.session.surface)
        if not force and (names, self._axes) == self._named:
            return  # a label set again redraws its axis
        self._named = (names, self._axes)
        for side, name in (("bottom", names[0]), ("left", names[1])):
            axis = plot.getAxis(side)
            if self._axes:
                axis.setLabel(name, color=self._theme.foreground)
                axis.showLabel(True)
            else:
                axis.showLabel(False)

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
        # No rebuild request: a new surface or height mode comes with surfaceChanged, and
        # a second request for the same edit would read as a drag's burst.
        self._sync_markers()

    def _maybe_rebuild(self) -> None:
        surface, height = self.session.surface, self.session.scene.surface.height
        coarse = self._rebuild.coarse  # a drag: a coarser grid keeps up, refined after
        if (
            self._hm_key is not None
            and self._hm_key[0] is surface
            and self._hm_key[1] == height
            and (coarse or not self._hm_coarse)  # never coarsen a current full mesh
        ):
            return
        self._hm_key = (surface, height)
        self._hm_coarse = coarse
        old_domain = None if self._heightmap is None else self._heightmap.domain
        hm = self._heightmap = build_heightmap(
            surface, height, DRAG_GRID_SIZE if coarse else GRID_SIZE
        )
        xmin, xmax, ymin, ymax = hm.domain
        # NaN in the holes: pyqtgraph draws those pixels transparent.
        self.image.setImage(hm.h_masked(), levels=(0.0, hm.h_max))
        self.image.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        # Every other isoline while dragging: each level costs the same at any grid size.
        levels = hm.levels()[:: 2 if coarse else 1]
        segs = isoline_segments(hm.xs, hm.ys, hm.h, levels, hm.defined)
        for item, lines in (
            (self.isolines, segs),
            (self.hatch, hatch_segments(hm.xs, hm.ys, hm.mask)),
        ):
            flat = lines.reshape(-1, 2)
            if len(flat):
                item.setData(flat[:, 0], flat[:, 1])
            else:
                item.clear()
        self.colorbar.setLevels((0.0, hm.h_max))
        ticks = loss_ticks(hm)
        if ticks != self._colorbar_ticks:  # new ticks redraw the axis: only when they differ
            self._colorbar_ticks = ticks
            self.colorbar.axis.setTicks([ticks, []])
        self._name_axes()
        minima = np.array([(m[0], m[1]) for m in getattr(surface, "minima", ())], float)
        self.minima.setData(pos=minima.reshape(-1, 2))
        if hm.domain == old_domain:
            # The same domain (a parameter dragged, a new formula): the view keeps its pan
            # and zoom, and the tracks (positions in the domain) stay as they are.
            return
        # Pan and zoom stay near the domain, but with equal scales a long domain (a network's
        # PCA plane) in a panel of the other shape needs room on its short axis to be seen
        # whole: both axes get twice the longer span on either side.
        pad = 2 * max(xmax - xmin, ymax - ymin)
        self.getPlotItem().getViewBox().setLimits(
            xMin=xmin - pad, xMax=xmax + pad, yMin=ymin - pad, yMax=ymax + pad
        )
        self.reset_view()
        if self.session.trajectory is not None:
            self._on_trajectory(self.session.trajectory)

    # ------------------------------------------------------------------ trajectory

    def _on_trajectory(self, trajectory) -> None:
        if self._heightmap is None:
            return
        runs = self.session.scene.runs
        tracks = self._tracks = Tracks(trajectory, self._heightmap.domain, len(runs))

        def whole(rt: RunTrack) -> np.ndarray:
            xy, _f, ok = tracks.window(rt, 0, tracks.frames)
            return compact_segments(xy, ok)[0]

        # The map builds each frame's trail from its window and keeps, per run, only the
        # repeats found in the whole trail (the 3D view keeps the segments themselves).
        self._repeats = [Repeats.of_run(rt, tracks.frames, whole) for rt in tracks.runs]
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
            for axis, lo, hi in (
                (0, max(xmin, vx0 + PIN_PX * px), min(xmax, vx1 - PIN_PX * px)),
                (1, max(ymin, vy0 + PIN_PX * py), min(ymax, vy1 - PIN_PX * py)),
            ):
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
            self.arrows.clear()
            for label in self._labels:
                label.hide()
            return
        frame = min(frame, tracks.frames - 1)
        for item, rt, repeats in zip(self._trail_items, tracks.runs, self._repeats, strict=False):
            start = trail_window(frame, self._trail_length, rt.n)
            segs = None
            if frame > start:
                xy, _f, ok = tracks.window(rt, start, frame + 1)
                # A bouncing run's repeats would each cost their length in pixels again.
                segs = repeats.leave_out(compact_segments(xy, ok)[0], start)
            if segs is not None and len(segs):
                flat = segs.reshape(-1, 2)
                # A start grid's hundreds of thin tails: plain lines paint in half the time.
                item.setData(
                    flat[:, 0],
                    flat[:, 1],
                    antialias=rt.n <= SHORT_TRAIL_BALLS,
                    skipFiniteCheck=True,
                )
            else:
                item.clear()
        pos = self.ball_positions(frame)
        status = status_at(trajectory, frame)
        # Balls at one spot: each earlier one a ring bigger, so in ball order the widest
        # is drawn first and the group reads as a target (see `coincident_rings`).
        span = max(tracks.domain[1] - tracks.domain[0], tracks.domain[3] - tracks.domain[2])
        rings = coincident_rings(pos, COINCIDENT * span)
        self.balls.setData(
            pos=pos, brush=self._brushes, size=BALL_PX + RING_PX * rings if rings.any() else BALL_PX
        )
        done = status == CONVERGED
        self.rings.setData(pos=pos[done], size=CONVERGED_PX + RING_PX * rings[done])
        self.crosses.setData(pos=pos[status == DIVERGED])
        self._show_marks(tracks, frame, pos, status)

    def _show_marks(self, tracks: Tracks, frame: int, pos: np.ndarray, status: np.ndarray) -> None:
        """An arrow at each ball drawn at the edge it left by, pointing the way it went,
        and the state of the first few ("diverged" or "outside") on the map's side."""
        idx, dirs, diverged = (
            edge_marks(tracks, frame, status)
            if tracks.fix.size
            else (np.zeros(0, int), np.zeros((0, 2)), np.zeros(0, bool))
        )
        t = self._theme
        trajectory = self.session.trajectory
        if idx.size == 0 or trajectory is None:
            self.arrows.clear()
            for label in self._labels:
                label.hide()
            return
        runs = self.session.scene.runs
        ball_run = np.asarray(trajectory.ball_run)[idx]
        # A run the scene no longer has (removed, its new paths still coming) reads diverged.
        colours = [
            t.diverged
            if diverged[k] or int(ball_run[k]) >= len(runs)
            else runs[int(ball_run[k])].color
            for k in range(idx.size)
        ]
        self.arrows.setData(
            pos=pos[idx], symbol=[_arrow(d) for d in dirs], brush=[pg.mkBrush(c) for c in colours]
        )
        n_balls = {rt.run: rt.n for rt in tracks.runs}
        vb = self.getPlotItem().getViewBox()
        px, py = (abs(v) for v in vb.viewPixelSize())
        shown = 0
        for k in range(idx.size):
            if shown >= MAX_EDGE_LABELS:
                break
            if n_balls.get(int(ball_run[k]), 0) > SHORT_TRAIL_BALLS:
                continue
            if shown == len(self._labels):
                label = pg.TextItem(anchor=(0.5, 0.5))
                label.setZValue(22)
                self.getPlotItem().addItem(label, ignoreBounds=True)
                self._labels.append(label)
            label = self._labels[shown]
            shown += 1
            label.setText("diverged" if diverged[k] else "outside", color=colours[k])
            label.fill = pg.mkBrush(t.panel)
            d = dirs[k]
            # On the map's side of the ball, beyond the arrow's tail.
            reach = ARROW_PX / 2 + 2
            label.setAnchor((0.5 + 0.5 * d[0], 0.5 - 0.5 * d[1]))
            label.setPos(
                QPointF(pos[idx[k], 0] - d[0] * reach * px, pos[idx[k], 1] - d[1] * reach * py)
            )
            label.show()
        for label in self._labels[shown:]:
            label.hide()

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
        for item, rt in zip(self._trail_items, tracks.runs, strict=False):
            cols = rt.ball_index
            tips = np.stack([a[cols], pos[cols]], 1).reshape(-1, 2)
            x, y = item.getData()
            if x is not None and len(x):
                tips = np.concatenate([np.stack([x, y], 1), tips])
            item.setData(
                tips[:, 0], tips[:, 1], antialias=rt.n <= SHORT_TRAIL_BALLS, skipFiniteCheck=True
            )

    # ------------------------------------------------------------------ starts

    def _sync_markers(self) -> None:
        """One draggable marker per listed start; only the selected run's are bright."""
        scene = self.session.scene
        wanted = [
            (i, j, p)
            for i, run in enumerate(scene.runs)
            if run.enabled and run.grid is None
            for j, p in enumerate(run.starts)
        ][:MAX_MARKERS]
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
        self._sync_markers()  # back on the run's start if the drag ended in a hole

    def _move_start(
        self, run_index: int, start_index: int, x: float, y: float, merge_key: str | None = None
    ) -> None:
        if self.session.scene.surface.network is None:
            problem = start_problems(self.session.surface, [(x, y)])[0]
            if problem is not None:  # a hole of f: the run keeps its start
                self.session.errorRaised.emit(f"start ({x:.4g}, {y:.4g}) is {problem}")
                return
        run = self.session.scene.runs[run_index]
        starts = list(run.starts)
        starts[start_index] = (float(x), float(y))
        self.session.update_run(run_index, "Move start", merge_key=merge_key, starts=tuple(starts))

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
