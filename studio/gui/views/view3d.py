"""The loss surface in 3D with every ball riding on it and its trail behind it.

Built for speed in software GL: the mesh, wireframe and floor isolines are made once per
surface; a new trajectory costs a few milliseconds (the balls' heights are its recorded
loss, see trails.py); a frame change hands the ball scatter N points and each run's line
item a view of its laid-out trail (a start grid's short tails: a few steps built on the
spot). World coordinates are normalised (the domain spans `WORLD` units, heights
`Z_HEIGHT`), so camera presets and marker sizes suit every surface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from OpenGL import GL
from PyQt6.QtCore import QCoreApplication, QEvent, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPalette
from PyQt6.QtOpenGL import QOpenGLWindow
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget
from pyqtgraph.opengl.GLViewWidget import GLViewMixin

from studio.gui.session import Session
from studio.gui.theme import theme_for
from studio.gui.views.camera_fit import fit_camera
from studio.gui.views.heightmap import HeightMap, build_heightmap, isoline_segments
from studio.gui.views.legend import legend_html
from studio.gui.views.throttle import Throttle
from studio.gui.views.trails import (
    CONVERGED,
    DIVERGED,
    SHORT_TRAIL_BALLS,
    RunTrack,
    Tracks,
    compact_segments,
    status_at,
    trail_window,
)

WORLD = 10.0
Z_HEIGHT = 4.0
FLOOR = -0.4
LIFT = 0.06          # balls and trails float this far above the mesh (it is piecewise linear)
BALL_PX = 13
RIM_PX = 18
WIREFRAME_PX = 1.0
FLOOR_PX = 1.5
WIREFRAME_EVERY = 6
PRESETS = {          # azimuth, elevation
    "isometric": (-60.0, 32.0),
    "top": (-90.0, 90.0),
    "front": (-90.0, 4.0),
    "side": (0.0, 4.0),
}
DEFAULT_DISTANCE = 17.0
MIN_FIT_PX = 50      # below this the view is not laid out yet: framing waits for a resize
# A run's trail is laid out once per trajectory (a frame then hands a view of it to GL) up to
# this many points; beyond, and for start grids (short trails), it is built per frame.
PRECOMPUTED_TRAIL_POINTS = 400_000

# Balls are drawn over everything (a ball behind a hill must still be seen in a lecture);
# trails twice: solid where visible, and a faint ghost through the hills that hide them
# (a start grid's tails only once: see _set_trails).
_ON_TOP = {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
           "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}
_DEPTH_WRITE = {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
                "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA),
                "glDepthMask": (True,)}


def rgba(color: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    c = QColor(color)
    return (c.redF(), c.greenF(), c.blueF(), alpha * c.alphaF())


def hillshade(h: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Lambert light from the upper left, so slopes read in a flat-shaded colormap."""
    gx, gy = np.gradient(h, dx, dy)
    normal = np.stack([-gx, -gy, np.ones_like(h)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    light = np.array([-0.45, 0.35, 0.82])
    light /= np.linalg.norm(light)
    return np.clip(normal @ light, 0.0, 1.0)


@dataclass(frozen=True)
class _Trail:
    """One run's trail: laid out once (`vertices`, two per segment; the segments of steps
    [a, b) are `vertices[offsets[a]:offsets[b]]`), or None: built per frame."""

    track: RunTrack
    vertices: np.ndarray | None = None
    offsets: np.ndarray | None = None


class _Scene3D:
    """The 3D scene of a session: mesh, balls, trails, camera. Shared by two hosts.

    pyqtgraph's GLViewMixin draws into either a QOpenGLWidget (`View3D`: offscreen export,
    tests) or a QOpenGLWindow (`View3DWindow`: the main window). The window matters for
    speed in software GL: a QOpenGLWidget makes Qt re-compose the whole top-level window
    through OpenGL on every repaint of any widget, about three times per played frame
    with the map and loss docks open; a native GL window repaints only itself.
    """

    session: Session

    def _init_scene(self, session: Session) -> None:
        self.session = session
        self._theme = theme_for(True)
        self._trail_length: int | None = None
        self._marker_scale = 1.0
        self._shown: tuple[int, object] | None = None  # (frame, tracks) last drawn
        self._preset: str | None = None  # the camera preset the view is framed for, if any
        self._heightmap: HeightMap | None = None
        self._hm_key: tuple[object, str] | None = None
        self._world_scale = 1.0
        self._centre = (0.0, 0.0)
        self._status: np.ndarray | None = None
        self._tracks: Tracks | None = None
        # The surface the shown trajectory was simulated on: its recorded loss gives the
        # balls' heights only on that surface (a new one shows the old run until re-simulated).
        self._simulated_on = session.surface if session.trajectory is not None else None
        self._trails: list[_Trail] = []
        self._trail_items: list[tuple[gl.GLLinePlotItem, gl.GLLinePlotItem]] = []

        cmap = pg.colormap.get("viridis")
        self._cmap = cmap
        self.surface_item = gl.GLSurfacePlotItem(smooth=False, computeNormals=False)
        self.surface_item.setGLOptions("opaque")
        self.wireframe_item = gl.GLLinePlotItem(mode="lines", width=WIREFRAME_PX, antialias=True)
        self.wireframe_item.setGLOptions(_DEPTH_WRITE)
        self.wireframe_item.setVisible(False)
        self.floor_item = gl.GLLinePlotItem(mode="lines", width=FLOOR_PX, antialias=False)
        self.floor_item.setGLOptions(_DEPTH_WRITE)
        self.floor_item.setVisible(False)
        self.rim_item = gl.GLScatterPlotItem(size=RIM_PX, pxMode=True)
        self.rim_item.setGLOptions(_ON_TOP)
        self.ball_item = gl.GLScatterPlotItem(size=BALL_PX, pxMode=True)
        self.ball_item.setGLOptions(_ON_TOP)
        for item in (self.floor_item, self.surface_item, self.wireframe_item):
            self.addItem(item)
        # Trails are added in between (per run) and the balls stay last: see _set_trails.
        self.addItem(self.rim_item)
        self.addItem(self.ball_item)

        # Mesh, wireframe and floor contours follow a slider drag at most once per frame
        # interval, always for the newest surface (see throttle.py).
        self._rebuild = Throttle(self._maybe_rebuild, parent=self)
        session.surfaceChanged.connect(self._on_surface)
        session.sceneChanged.connect(self._on_scene)
        session.trajectoryChanged.connect(self._on_new_trajectory)
        session.frameChanged.connect(self._on_frame)
        self.set_dark(True)
        self._rebuild_surface()
        self.reset_view()
        if session.trajectory is not None:
            self._on_trajectory(session.trajectory)

    # ------------------------------------------------------------------ public API

    def set_dark(self, dark: bool) -> None:
        self._theme = theme_for(dark)
        t = self._theme
        self.setBackgroundColor(t.background)
        self.wireframe_item.setData(color=rgba(t.outline if dark else "#000000", 0.35))
        self._status = None  # re-colour rims and legend
        self._refresh_overlays()
        if self.session.trajectory is not None:
            self._show(self.session.frame)

    def set_marker_scale(self, factor: float) -> None:
        """Balls, rims and trail widths × `factor` (they are sized in pixels for a window:
        an export to 1080p or 4K scales them so they read as they do at 720p)."""
        self._marker_scale = scale = float(factor)
        self.ball_item.setData(size=BALL_PX * scale)
        self.rim_item.setData(size=RIM_PX * scale)
        self.wireframe_item.setData(width=WIREFRAME_PX * scale)
        self.floor_item.setData(width=FLOOR_PX * scale)
        self._set_trails(self._trails)

    def set_trail_length(self, n: int | None) -> None:
        """Steps of trail behind each ball; None draws the whole path so far."""
        self._trail_length = None if n is None else max(0, int(n))
        self._show(self.session.frame)

    def set_camera(self, azimuth: float, elevation: float, distance: float | None = None) -> None:
        self.setCameraPosition(azimuth=float(azimuth), elevation=float(elevation),
                               distance=None if distance is None else float(distance))

    def camera(self) -> tuple[float, float, float]:
        """(azimuth, elevation, distance) in degrees and world units."""
        return (float(self.opts["azimuth"]), float(self.opts["elevation"]),
                float(self.opts["distance"]))

    def camera_preset(self, name: str) -> None:
        """Look from a preset angle with the surface framed to fill the view; the framing
        follows resizes and new surfaces until the user turns or zooms the camera."""
        self._preset = name
        azimuth, elevation = PRESETS[name]
        self.opts["center"] = pg.Vector(0.0, 0.0, Z_HEIGHT * 0.2)
        self.set_camera(azimuth, elevation, DEFAULT_DISTANCE)
        if self.width() >= MIN_FIT_PX and self.height() >= MIN_FIT_PX:
            fit_camera(self, (azimuth, elevation, DEFAULT_DISTANCE),
                       QRectF(0, 0, self.width(), self.height()), [], None, 0.0, 0.0,
                       apply=True)
        self.update()

    def is_framed(self) -> bool:
        """True while the camera is a preset's framing (not turned or zoomed by the user):
        an export then frames the surface for its own size instead of copying the distance."""
        return self._preset is not None

    def resizeGL(self, w: int, h: int) -> None:
        if self._preset is not None:
            self.camera_preset(self._preset)

    def mouseMoveEvent(self, ev) -> None:
        if ev.buttons() != Qt.MouseButton.NoButton:
            self._preset = None  # a drag turns or pans: the user frames the view from now on
        super().mouseMoveEvent(ev)

    def hold_camera(self) -> None:
        """Keep the camera as it is through resizes and new surfaces (an export sets it)."""
        self._preset = None

    def wheelEvent(self, ev) -> None:
        self._preset = None
        super().wheelEvent(ev)

    def reset_view(self) -> None:
        self.camera_preset("isometric")

    def set_wireframe(self, on: bool) -> None:
        self.wireframe_item.setVisible(bool(on))

    def wireframe(self) -> bool:
        return self.wireframe_item.visible()

    def set_floor_contours(self, on: bool) -> None:
        self.floor_item.setVisible(bool(on))

    def floor_contours(self) -> bool:
        return self.floor_item.visible()

    def to_world(self, xy: np.ndarray, f: np.ndarray) -> np.ndarray:
        """Data (x, y) and loss f → (…, 3) world points on the displayed mesh."""
        assert self._heightmap is not None
        out = np.empty(xy.shape[:-1] + (3,), np.float32)
        out[..., 0] = (xy[..., 0] - self._centre[0]) * self._world_scale
        out[..., 1] = (xy[..., 1] - self._centre[1]) * self._world_scale
        out[..., 2] = self._heightmap.transform(f) * self._z_scale
        return out

    # ------------------------------------------------------------------ surface

    def _on_surface(self, _surface) -> None:
        self._rebuild.request()

    def _on_scene(self, _scene) -> None:
        self._rebuild.request()
        self._refresh_overlays()

    def _maybe_rebuild(self) -> None:
        """Rebuild the mesh only for a new surface or height mode, never for other edits."""
        key = (self.session.surface, self.session.scene.surface.height)
        if self._hm_key is not None and key[0] is self._hm_key[0] and key[1] == self._hm_key[1]:
            return
        self._rebuild_surface()
        if self._preset is not None:  # a new shape: frame it afresh
            self.camera_preset(self._preset)
        if self.session.trajectory is not None:
            self._on_trajectory(self.session.trajectory)

    def _rebuild_surface(self) -> None:
        surface = self.session.surface
        self._hm_key = (surface, self.session.scene.surface.height)
        hm = build_heightmap(surface, self.session.scene.surface.height)
        self._heightmap = hm
        xmin, xmax, ymin, ymax = hm.domain
        self._centre = ((xmin + xmax) / 2, (ymin + ymax) / 2)
        self._world_scale = WORLD / max(xmax - xmin, ymax - ymin)
        self._z_scale = Z_HEIGHT / max(hm.h_max, 1e-12)
        wx = ((hm.xs - self._centre[0]) * self._world_scale).astype(np.float32)
        wy = ((hm.ys - self._centre[1]) * self._world_scale).astype(np.float32)
        wz = (hm.h * self._z_scale).astype(np.float32)
        unit = hm.h / max(hm.h_max, 1e-12)
        colours = self._cmap.map(unit.ravel(), mode="float").reshape(unit.shape + (4,))
        shade = hillshade(wz, float(wx[1] - wx[0]), float(wy[1] - wy[0]))
        colours[..., :3] *= (0.62 + 0.38 * shade)[..., None]
        self.surface_item.setData(x=wx, y=wy, z=wz, colors=colours.reshape(-1, 4).astype(np.float32))

        # Wireframe: every few grid lines, drawn as segments just above the mesh.
        k = WIREFRAME_EVERY
        gx, gy = np.meshgrid(wx, wy, indexing="ij")
        pts = np.stack([gx, gy, wz + 0.01], -1)
        along_y = np.stack([pts[::k, :-1], pts[::k, 1:]], 2).reshape(-1, 3)
        along_x = np.stack([pts[:-1, ::k], pts[1:, ::k]], 2).reshape(-1, 3)
        self.wireframe_item.setData(pos=np.concatenate([along_y, along_x]))

        # Floor isolines in the colormap's colours, like a map under the landscape.
        levels = hm.levels()
        segs, seg_levels = [], []
        for level in levels:
            # From the heights themselves: float32 `wz` over a tiny scale (a surface with a
            # range near 1e300) divides by zero.
            s = isoline_segments(wx, wy, hm.h, np.array([level]))
            segs.append(s)
            seg_levels.append(np.full(len(s), level))
        floor = np.concatenate(segs) if segs else np.zeros((0, 2, 2))
        lv = np.concatenate(seg_levels) if seg_levels else np.zeros(0)
        if len(floor):
            pos = np.concatenate([floor, np.full(floor.shape[:2] + (1,), FLOOR)], -1)
            col = self._cmap.map(np.repeat(lv / max(hm.h_max, 1e-12), 2), mode="float")
            self.floor_item.setData(pos=pos.reshape(-1, 3).astype(np.float32),
                                    color=col.astype(np.float32))
        else:
            self.floor_item.setData(pos=np.zeros((0, 3), np.float32))

    # ------------------------------------------------------------------ trajectory

    def ball_world(self, frame: int) -> np.ndarray:
        """(N, 3) world positions of the balls at `frame`, as drawn."""
        tracks = self._tracks
        if tracks is None or tracks.frames == 0:
            return np.zeros((0, 3), np.float32)
        frame = min(max(int(frame), 0), tracks.frames - 1)
        xy, _pinned, f = tracks.frame(frame, loss=True)
        world = self.to_world(xy, f)
        world[:, 2] += LIFT
        return world

    def _on_new_trajectory(self, trajectory) -> None:
        self._simulated_on = self.session.surface
        self._on_trajectory(trajectory)

    def _on_trajectory(self, trajectory) -> None:
        """Cheap: the trajectory's own positions and losses are the display (see trails.py);
        the surface is evaluated only where a ball is drawn away from its true position.
        Trails of runs with few balls are laid out once (a frame hands a view of them);
        a start grid's short trails are built per frame from their window."""
        if self._heightmap is None:
            return
        runs = self.session.scene.runs
        surface = self.session.surface
        tracks = Tracks(trajectory, self._heightmap.domain, len(runs), surface.value,
                        recorded_loss=self._simulated_on is surface)
        self._tracks = tracks
        colours = np.zeros((trajectory.positions.shape[1], 4), np.float32)
        trails = []
        for rt in tracks.runs:
            colours[rt.cols] = rgba(runs[rt.run].color)
            if rt.n > SHORT_TRAIL_BALLS or rt.n * tracks.frames > PRECOMPUTED_TRAIL_POINTS:
                trails.append(_Trail(rt))       # built per frame from its window
                continue
            world, ok = self._world_window(rt, 0, tracks.frames)
            segs, offsets = compact_segments(world, ok)
            trails.append(_Trail(rt, segs.reshape(-1, 3), 2 * offsets))
        self.ball_item.setData(color=colours)
        self._set_trails(trails)
        self._status = None
        self._show(self.session.frame)

    def _world_window(self, rt: RunTrack, start: int, stop: int
                      ) -> tuple[np.ndarray, np.ndarray | None]:
        """A run's balls over steps [start, stop) in world points, and which may carry a trail."""
        assert self._tracks is not None
        xy, f, ok = self._tracks.window(rt, start, stop, loss=True)
        world = self.to_world(xy, f)
        world[..., 2] += LIFT
        return world, ok

    def _trail_vertices(self, trail: _Trail, start: int, stop: int) -> np.ndarray:
        """(2M, 3) vertices of a run's trail segments over steps [start, stop)."""
        if trail.vertices is not None:
            return trail.vertices[trail.offsets[start]:trail.offsets[stop]]
        segs, _ = compact_segments(*self._world_window(trail.track, start, stop + 1))
        return segs.reshape(-1, 3)

    def _set_trails(self, trails: list[_Trail]) -> None:
        runs = self.session.scene.runs
        while len(self._trail_items) < len(trails):
            solid = gl.GLLinePlotItem(mode="lines", width=3.0, antialias=True)
            solid.setGLOptions(_DEPTH_WRITE)
            ghost = gl.GLLinePlotItem(mode="lines", width=1.5, antialias=True)
            ghost.setGLOptions(_ON_TOP)
            # Insert before the balls so balls are painted over their own trails.
            self.removeItem(self.rim_item)
            self.removeItem(self.ball_item)
            self.addItem(solid)
            self.addItem(ghost)
            self.addItem(self.rim_item)
            self.addItem(self.ball_item)
            self._trail_items.append((solid, ghost))
        self._trails = trails
        scale = self._marker_scale
        for k, (solid, ghost) in enumerate(self._trail_items):
            if k < len(trails):
                rt = trails[k].track
                if rt.n <= SHORT_TRAIL_BALLS:
                    solid.setData(color=rgba(runs[rt.run].color, 0.95), width=3.0 * scale,
                                  antialias=True)
                    ghost.setData(color=rgba(runs[rt.run].color, 0.95 * 0.35),
                                  width=1.5 * scale)
                else:
                    # A start grid: hundreds of faint tails that only show the flow. Plain
                    # lines and no ghost through the hills halve a played frame of a 20×20
                    # grid in software GL (about 50 → 25 ms).
                    solid.setData(color=rgba(runs[rt.run].color, 0.45), width=2.0 * scale,
                                  antialias=False)
            else:
                solid.setVisible(False)
                ghost.setVisible(False)

    def _on_frame(self, frame: int) -> None:
        """frameChanged: draw `frame`, unless it is already what the view shows (the session
        re-announces the frame after every new trajectory, which `_on_trajectory` drew)."""
        shown = self._shown
        if shown is None or shown[0] != frame or shown[1] is not self._tracks:
            self._show(frame)

    def _show(self, frame: int) -> None:
        self._shown = (frame, self._tracks)
        trajectory = self.session.trajectory
        tracks = self._tracks
        if trajectory is None or tracks is None or tracks.frames == 0:
            return
        frame = min(frame, tracks.frames - 1)
        has_balls = tracks.positions.shape[1] > 0
        if has_balls:
            pos = self.ball_world(frame)
            self.ball_item.setData(pos=pos)
            self.rim_item.setData(pos=pos)
        self.ball_item.setVisible(has_balls)
        self.rim_item.setVisible(has_balls)
        for items, trail in zip(self._trail_items, self._trails):
            start = trail_window(frame, self._trail_length, trail.track.n)
            pos = self._trail_vertices(trail, start, frame) if frame > start else None
            shown = pos is not None and len(pos) > 0
            for item in items[:1 if trail.track.n > SHORT_TRAIL_BALLS else 2]:
                if shown:
                    item.setData(pos=pos)
                item.setVisible(shown)
            if trail.track.n > SHORT_TRAIL_BALLS:
                items[1].setVisible(False)
        status = status_at(trajectory, frame)
        if self._status is None or not np.array_equal(status, self._status):
            self._status = status
            t = self._theme
            rim = np.empty((status.size, 4), np.float32)
            rim[:] = rgba(t.outline, 0.9)
            rim[status == CONVERGED] = rgba(t.converged, 1.0)
            rim[status == DIVERGED] = rgba(t.diverged, 1.0)
            self.rim_item.setData(color=rim)
            self._refresh_overlays()

    def _refresh_overlays(self) -> None:
        """Hook: the status of some ball changed (the panel re-draws its legend)."""

    def set_time(self, t: float) -> None:
        """Draw the run at fractional step `t` (an export's frame between two steps): the
        balls glide from step ⌊t⌋ to the next, each trail reaching to its ball. The window
        plays whole steps (`frameChanged`); this is for the offscreen renderer."""
        tracks = self._tracks
        if self.session.trajectory is None or tracks is None or tracks.frames == 0:
            return
        t = min(max(float(t), 0.0), float(tracks.frames - 1))
        k = int(np.floor(t + 1e-9))
        self._show(k)
        frac = t - k
        if frac <= 1e-6 or k + 1 >= tracks.frames or tracks.positions.shape[1] == 0:
            return
        a, b = self.ball_world(k), self.ball_world(k + 1)
        pos = a + (b - a) * np.float32(frac)
        self.ball_item.setData(pos=pos)
        self.rim_item.setData(pos=pos)
        for items, trail in zip(self._trail_items, self._trails):
            n = trail.track.n
            cols = trail.track.ball_index
            tips = np.stack([a[cols], pos[cols]], 1).reshape(-1, 3)
            start = trail_window(k, self._trail_length, n)
            base = self._trail_vertices(trail, start, k) if k > start else tips[:0]
            vertices = np.concatenate([base, tips])
            for item in items[:1 if n > SHORT_TRAIL_BALLS else 2]:
                item.setData(pos=vertices)
                item.setVisible(True)


class View3D(_Scene3D, gl.GLViewWidget):
    """`View3D(session)` as a QOpenGLWidget: standalone, offscreen export and tests."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        gl.GLViewWidget.__init__(self, parent)
        self.setMinimumSize(200, 150)
        self._init_scene(session)


class View3DWindow(_Scene3D, GLViewMixin, QOpenGLWindow):
    """The same scene in a native GL window, for the main window (see `_Scene3D`)."""

    statusChanged = pyqtSignal()

    def __init__(self, session: Session) -> None:
        # One cooperative call: GLViewMixin.__init__ chains to QOpenGLWindow.__init__
        # (calling both makes a second, orphaned C++ window that crashes PyQt later).
        # Under AA_ShareOpenGLContexts its context shares with the export's hidden
        # View3D, as pyqtgraph's process-wide cache of compiled shaders needs.
        super().__init__()
        # Keyboard focus stays with the widgets, so window shortcuts (Space, arrows) work.
        self.setFlag(Qt.WindowType.WindowDoesNotAcceptFocus, True)
        self._init_scene(session)

    def _refresh_overlays(self) -> None:
        self.statusChanged.emit()

    def _on_new_trajectory(self, trajectory) -> None:
        super()._on_new_trajectory(trajectory)
        # Paint now, before the docks: after an edit the 3D view, where the user looks,
        # shows the new paths first (a queued update waited behind ~30 ms of 2D repaints
        # in software rendering). An UpdateRequest is how Qt asks a window to paint.
        if self.isExposed():
            QCoreApplication.sendEvent(self, QEvent(QEvent.Type.UpdateRequest))


class View3DPanel(QWidget):
    """The main window's 3D panel: a legend strip above the native GL window.

    Forwards the view API (camera, wireframe, floor contours, theme, trail length) to
    `self.view`, so callers treat it like a `View3D`.
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.view = View3DWindow(session)
        self.container = QWidget.createWindowContainer(self.view, self)
        self.container.setMinimumSize(200, 150)
        self.container.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.title = QLabel()
        self.title.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        header = QHBoxLayout()
        header.setContentsMargins(10, 6, 10, 6)
        header.addWidget(self.legend, 1)
        header.addWidget(self.title, 0)
        self._header = QWidget()
        self._header.setObjectName("legend-strip")
        self._header.setLayout(header)
        # Coloured by its palette, not a style sheet: a style sheet changed before the widget
        # is first shown kept its first value (the light theme restored at start-up drew the
        # strip dark). The labels inherit the palette's text colour.
        self._header.setAutoFillBackground(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header)
        layout.addWidget(self.container, 1)
        self.view.statusChanged.connect(self._refresh_overlays)
        session.sceneChanged.connect(self._refresh_overlays)
        session.trajectoryChanged.connect(self._refresh_overlays)
        self.set_dark(True)

    # The view API, forwarded.
    def set_dark(self, dark: bool) -> None:
        self._theme = t = theme_for(dark)
        palette = self._header.palette()
        for role, colour in ((QPalette.ColorRole.Window, t.background),
                             (QPalette.ColorRole.WindowText, t.foreground),
                             (QPalette.ColorRole.Text, t.foreground)):
            palette.setColor(role, QColor(colour))
        self._header.setPalette(palette)
        self.view.set_dark(dark)
        self._refresh_overlays()

    def set_trail_length(self, n: int | None) -> None:
        self.view.set_trail_length(n)

    def set_camera(self, azimuth: float, elevation: float, distance: float | None = None) -> None:
        self.view.set_camera(azimuth, elevation, distance)

    def camera(self) -> tuple[float, float, float]:
        return self.view.camera()

    def camera_preset(self, name: str) -> None:
        self.view.camera_preset(name)

    def reset_view(self) -> None:
        self.view.reset_view()

    def is_framed(self) -> bool:
        return self.view.is_framed()

    def set_wireframe(self, on: bool) -> None:
        self.view.set_wireframe(on)

    def wireframe(self) -> bool:
        return self.view.wireframe()

    def set_floor_contours(self, on: bool) -> None:
        self.view.set_floor_contours(on)

    def floor_contours(self) -> bool:
        return self.view.floor_contours()

    def grab_scene(self) -> QImage:
        """The GL window's current picture (QWidget.grab() cannot see a native GL window)."""
        return self.view.grabFramebuffer()

    def _refresh_overlays(self, *_unused: object) -> None:
        scene = self.session.scene
        text = legend_html(scene.runs, self.session.trajectory, self.view._status, self._theme)
        self.legend.setText(text)
        self.title.setText(scene.title or getattr(self.session.surface, "title", ""))
