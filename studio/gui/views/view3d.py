"""The loss surface in 3D with every ball riding on it and its trail behind it.

Built for speed in software GL: the mesh, wireframe and floor isolines are made once per
surface; a new trajectory costs a few milliseconds (the balls' heights are its recorded
loss, see trails.py); a frame change hands the ball scatter N points and each run's trail
item a view of its laid-out trail (a start grid's short tails: a few steps built on the
spot), and the runs' trails draw as one line item (`_TrailBatch`). An export's hidden view
keeps the surface as a picture between frames (`View3D`). World coordinates are normalised
(the domain spans `WORLD` units, heights `Z_HEIGHT`), so camera presets and marker sizes
suit every surface.

Depth reads as depth (docs/architecture.md#views): the surface alone writes the depth
buffer; trails and balls are drawn depth-tested against it, then again only where it
hides them (`glDepthFunc(GL_GREATER)`, the x-ray pass) in a subdued style: a trail as a
faint thin line, a ball as a hollow ring. A ball in a well therefore shows as a ring
through the well's near side, never as a ball sitting on that slope. Balls at one spot
grow rings round each other (`coincident_rings`); a ball outside the domain gets an
arrow pointing the way it left and its state; optional axes name the coordinates.

Where f is undefined (NaN: log(x) for x ≤ 0) the mesh has no triangles, the wireframe and
floor isolines no lines: a hole one sees through (docs/algorithms.md#undefined-regions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from OpenGL import GL
from OpenGL.error import GLError
from PyQt6.QtCore import QCoreApplication, QEvent, QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPalette,
    QPen,
    QPolygonF,
)
from PyQt6.QtOpenGL import (
    QOpenGLFramebufferObject,
    QOpenGLFramebufferObjectFormat,
    QOpenGLPaintDevice,
    QOpenGLWindow,
)
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget
from pyqtgraph.opengl.GLViewWidget import GLViewMixin
from pyqtgraph.opengl.items.GLLinePlotItem import DirtyFlag as LineDirty
from pyqtgraph.opengl.items.GLScatterPlotItem import DirtyFlag

from studio.gui.session import Session
from studio.gui.theme import theme_for
from studio.gui.views.camera_fit import WORLD, Z_HEIGHT, auto_camera, fit_camera
from studio.gui.views.heightmap import (
    DRAG_GRID_SIZE,
    GRID_SIZE,
    HeightMap,
    axis_names,
    build_heightmap,
    isoline_segments,
    nice_ticks,
    tick_text,
)
from studio.gui.views.legend import legend_html
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
    lays_out,
    status_at,
    trail_window,
)

FLOOR = -0.4
LIFT = 0.06  # balls and trails float this far above the mesh (it is piecewise linear)
BALL_PX = 13
RIM_PX = 18
WIREFRAME_PX = 1.0
FLOOR_PX = 1.5
WIREFRAME_EVERY = 6
RING_PX = 5  # each ring round a ball sharing its spot with others
XRAY_RING_PX = 3.5  # the width of the ring a ball seen through the surface is drawn as
DEPTH_BIAS = 2.5  # ball radii a ball is drawn nearer the camera: the slope it sits on
# must not cut its disc, while a hill in front still hides it
COINCIDENT = 0.006  # balls nearer than this share of the domain count as one spot
PRESETS = {  # azimuth, elevation
    "isometric": (-60.0, 32.0),
    "top": (-90.0, 90.0),
    "front": (-90.0, 4.0),
    "side": (0.0, 4.0),
}
AUTO = "auto"  # the camera preset that looks from where the paths are seen
MAX_EDGE_LABELS = 8  # state labels of balls outside the domain (arrows for all)
AXIS_TICKS = 5
AXIS_ROOM = 1.1  # world units beyond the rim the framing keeps for the axes
DEFAULT_DISTANCE = 17.0
MIN_FIT_PX = 50  # below this the view is not laid out yet: framing waits for a resize


def _gl(depth_func: int, write: bool, blend: bool = True) -> dict:
    """GL options of an item: every item sets the depth function and mask it needs
    (GL state carries over from the item painted before)."""
    return {
        GL.GL_DEPTH_TEST: True,
        GL.GL_BLEND: blend,
        GL.GL_CULL_FACE: False,
        "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA),
        "glDepthFunc": (depth_func,),
        "glDepthMask": (write,),
    }


# The surface (and the floor beneath it) write depth; wireframe, trails and balls only
# test against it, visible parts with LEQUAL and the x-ray pass with GREATER (only where
# the surface hides them), so trails never hide balls or each other.
_OPAQUE = _gl(GL.GL_LESS, True, blend=False)
_DEPTH_WRITE = _gl(GL.GL_LEQUAL, True)
_VISIBLE = _gl(GL.GL_LEQUAL, False)
_HIDDEN = _gl(GL.GL_GREATER, False)


class _Restores:
    """Mixin for items that leave the depth test changed: afterwards restore the defaults
    (a depth mask left off would also stop the next frame's glClear of the depth buffer)."""

    def paint(self) -> None:
        try:
            super().paint()  # type: ignore[misc]
        finally:
            GL.glDepthFunc(GL.GL_LESS)
            GL.glDepthMask(GL.GL_TRUE)


class _TrailLine(_Restores, gl.GLLinePlotItem):
    """A trail, or its x-ray ghost (with `_HIDDEN` options). A `batched` one holds its
    run's segments and colour but is drawn by a `_TrailBatch`."""

    batched = False

    def paint(self) -> None:
        if not self.batched:
            super().paint()


class _TrailBatch(_Restores, gl.GLLinePlotItem):
    """The trails of all runs with a few balls (or their x-ray ghosts) as one line item:
    one draw call with a colour per vertex instead of one item per run, each with its own
    shader set-up, upload and GL state (in software GL a dozen line items cost more than
    their pixels). Runs keep their order, so a later run's trail still crosses over an
    earlier one's."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.members: list[_TrailLine] = []

    def paint(self) -> None:
        parts = [m for m in self.members if m.visible() and m.pos is not None and len(m.pos)]
        if not parts:
            return
        self.pos = np.concatenate([m.pos for m in parts])
        colours = np.array([m.color for m in parts], np.float32)
        self.color = np.repeat(colours, [len(m.pos) for m in parts], axis=0)
        self.dirty_bits |= LineDirty.POSITION | LineDirty.COLOR
        super().paint()


class _BallSprites(_Restores, gl.GLScatterPlotItem):
    """Balls (or their rims, or their x-ray rings) drawn a little nearer the camera.

    A point sprite has one depth, its centre's: on a slope facing the camera the surface
    under the lower half of the disc is nearer than the centre and would cut the ball.
    Each ball is moved `DEPTH_BIAS` of its radius towards the camera, along the line of
    sight (so it stays where it was on screen and keeps its pixel size), at paint time,
    so the bias follows the camera as the user turns it.
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.bias_px = BALL_PX / 2.0

    def paint(self) -> None:
        view = self.view()
        if self.pos is None or len(self.pos) == 0 or view is None:
            return super().paint()
        eye = view.cameraPosition()
        cam = np.array([eye.x(), eye.y(), eye.z()], np.float32)
        along = cam[None, :] - self.pos
        dist = np.linalg.norm(along, axis=1, keepdims=True)
        px = 2.0 * dist * math.tan(math.radians(float(view.opts["fov"])) / 2) / max(view.width(), 1)
        shift = np.minimum(DEPTH_BIAS * self.bias_px * px, 0.5 * dist)
        surface = self.pos
        self.pos = np.ascontiguousarray(
            surface + along / np.maximum(dist, 1e-9) * shift, np.float32
        )
        self.dirty_bits |= DirtyFlag.POSITION
        try:
            super().paint()
        finally:
            self.pos = surface
            self.dirty_bits |= DirtyFlag.POSITION


@dataclass
class _Annotations:
    """What the 2D overlay draws this frame."""

    axes: bool = True
    # Each (world point (3,), world direction (2,), colour, label or "").
    marks: list[tuple[np.ndarray, np.ndarray, QColor, str]] | None = None


class _Overlay(gl.GLGraphicsItem.GLGraphicsItem):
    """Axes, and arrows for balls outside the domain, painted with QPainter over the GL
    picture (last of all items): projected from world points each paint, so they follow
    the camera; sized in pixels × the view's marker scale, like the balls."""

    def __init__(self, scene: _Scene3D) -> None:
        super().__init__()
        self._scene = scene
        self.setDepthValue(1000)

    def _projector(self, dpr: float):
        """World points → framebuffer pixels (x right, y down), and which are in front."""
        view = self.view()
        w, h = float(view.width()) * dpr, float(view.height()) * dpr
        mvp = np.array(self.mvpMatrix().data(), float).reshape(4, 4).T

        def to_px(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            pts = np.atleast_2d(np.asarray(points, float))
            clip = np.c_[pts, np.ones(len(pts))] @ mvp.T
            wc = clip[:, 3:4]
            ok = wc[:, 0] > 1e-9
            ndc = clip[:, :2] / np.where(ok[:, None], wc, 1.0)
            return np.column_stack([(ndc[:, 0] + 1) * w / 2, (1 - ndc[:, 1]) * h / 2]), ok

        return to_px

    def paint(self) -> None:
        scene = self._scene
        axes = scene._annotations.axes and not scene._axes_in_layer
        if axes or scene._annotations.marks:  # a QPainter on GL costs even drawing nothing
            self.paint_on(self.view(), axes, bool(scene._annotations.marks))

    def paint_on(self, device, axes: bool, marks: bool) -> None:
        """Paint the axes and/or the marks on `device`: the view itself, or (axes only)
        a QOpenGLPaintDevice on the framebuffer `View3D` keeps the surface in."""
        scene = self._scene
        view = self.view()
        if view is None or scene._heightmap is None:
            return
        # Drawn in framebuffer pixels, as the balls' sizes are: a device pixel ratio of 2
        # must not double the axes and arrows of an export.
        ratio = getattr(view, "devicePixelRatioF", None) or view.devicePixelRatio
        dpr = float(ratio()) or 1.0
        scene._overlay_px = (float(view.width()) * dpr, float(view.height()) * dpr)
        painter = QPainter(device)
        try:
            if device is view:
                painter.scale(1 / dpr, 1 / dpr)
            painter.setRenderHints(
                QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
            )
            to_px = self._projector(dpr)
            if axes:
                scene._paint_axes(painter, to_px)
            if marks:
                scene._paint_marks(painter, to_px)
        finally:
            painter.end()
            GL.glDepthFunc(GL.GL_LESS)
            GL.glDepthMask(GL.GL_TRUE)


def rgba(color: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    c = QColor(color)
    return (c.redF(), c.greenF(), c.blueF(), alpha * c.alphaF())


_LIGHT = np.array([-0.45, 0.35, 0.82]) / np.linalg.norm([-0.45, 0.35, 0.82])
FLAT_SHADE = float(_LIGHT[2])  # the light on level ground


def hillshade(h: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Lambert light from the upper left, so slopes read in a flat-shaded colormap."""
    with np.errstate(invalid="ignore"):
        gx, gy = np.gradient(h, dx, dy)
        normal = np.stack([-gx, -gy, np.ones_like(h)], -1)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        return np.clip(normal @ _LIGHT, 0.0, 1.0)


class _HoledSurface(gl.GLSurfacePlotItem):
    """A surface plot without the triangles that touch a grid point where f is undefined.

    pyqtgraph lays out two triangles per grid cell (`generateFaces`), only when the grid's
    shape changes; `set_surface` makes it lay them out again for each new mask and keeps
    the triangles whose three corners are all defined.
    """

    def __init__(self, **kw) -> None:
        self._defined: np.ndarray | None = None
        super().__init__(**kw)

    def set_surface(
        self,
        x: np.ndarray,
        y: np.ndarray,
        z: np.ndarray,
        colors: np.ndarray,
        defined: np.ndarray | None,
    ) -> None:
        """`defined` (len(x), len(y)) bool, or None: defined everywhere."""
        if defined is not None or self._defined is not None:
            self._vertexes = None  # lay the faces out again, for this mask
        self._defined = defined
        self.setData(x=x, y=y, z=z, colors=colors)

    def generateFaces(self) -> None:  # noqa: N802 - pyqtgraph's name
        super().generateFaces()
        if self._defined is not None:
            # Vertex k of a face is grid point (k // ny, k % ny): the mask's row-major order.
            ok = np.asarray(self._defined, dtype=bool).ravel()
            self._faces = self._faces[ok[self._faces].all(axis=1)]

    def face_count(self) -> int:
        faces = self._meshdata.faces()
        return 0 if faces is None else len(faces)


def rim_heights(wz: np.ndarray, defined: np.ndarray | None) -> np.ndarray:
    """The mesh heights for the axes along its rim: where an edge crosses a hole of f,
    the edge's height is carried across it (interpolated between the defined points on
    either side, held beyond the last one), so an axis spans the hole level instead of
    dropping to the placeholder height there. An edge wholly in a hole runs straight
    between its corners once the edges beside it are filled; a rim with no value at all
    lies on the floor."""
    out = wz.astype(float)
    if defined is None:
        return out
    known = defined.copy()
    for _ in range(2):
        for index in (np.s_[:, 0], np.s_[:, -1], np.s_[0, :], np.s_[-1, :]):
            ok = known[index].copy()
            if ok.all() or not ok.any():
                continue
            edge = out[index]  # a view: filling it fills `out`
            at = np.arange(edge.size)
            edge[~ok] = np.interp(at[~ok], at[ok], edge[ok])
            known[index] = True
    for index in (np.s_[:, 0], np.s_[:, -1], np.s_[0, :], np.s_[-1, :]):
        out[index][~known[index]] = 0.0
    return out


@dataclass(frozen=True)
class _Trail:
    """One run's trail: laid out once (`vertices`, two per segment; the segments of steps
    [a, b) are `vertices[offsets[a]:offsets[b]]`), or None: built per frame."""

    track: RunTrack
    repeats: Repeats
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
        self._hm_coarse = False  # the mesh was built at DRAG_GRID_SIZE (during a drag)
        self._floor_source: tuple[np.ndarray, np.ndarray] | None = None  # mesh x, y (world)
        self._floor_stale = True  # the floor isolines are not of the current mesh
        self._world_scale = 1.0
        self._rim: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._overlay_px = (1.0, 1.0)  # the framebuffer's size when the overlay last painted
        self._centre = (0.0, 0.0)
        self._status: np.ndarray | None = None
        self._tracks: Tracks | None = None
        # The surface the shown trajectory was simulated on: its recorded loss gives the
        # balls' heights only on that surface (a new one shows the old run until re-simulated).
        self._simulated_on = session.surface if session.trajectory is not None else None
        self._trails: list[_Trail] = []
        self._trail_items: list[tuple[gl.GLLinePlotItem, gl.GLLinePlotItem]] = []

        self._static_rev = 0  # bumped when the surface, wireframe or floor change (_StaticLayer)
        self._annotations = _Annotations()
        self._axes_in_layer = False  # this paint's axes are in View3D's static layer
        self._ball_colours = np.zeros((0, 4), np.float32)
        self._ball_key: object = None  # the rings and scale the balls are styled for
        self._auto: tuple[tuple[object, object], tuple[float, float]] | None = None

        cmap = pg.colormap.get("viridis")
        self._cmap = cmap
        self.surface_item = _HoledSurface(smooth=False, computeNormals=False)
        self.surface_item.setGLOptions(_OPAQUE)
        self.wireframe_item = gl.GLLinePlotItem(mode="lines", width=WIREFRAME_PX, antialias=True)
        self.wireframe_item.setGLOptions(_VISIBLE)
        self.wireframe_item.setVisible(False)
        self.floor_item = gl.GLLinePlotItem(mode="lines", width=FLOOR_PX, antialias=False)
        self.floor_item.setGLOptions(_DEPTH_WRITE)
        self.floor_item.setVisible(False)
        # Balls: rim and disc where seen; where the surface hides them, a ring in the run's
        # colour round a hollow (the x-ray pass).
        self.rim_item = _BallSprites(size=RIM_PX, pxMode=True, glOptions=_VISIBLE)
        self.ball_item = _BallSprites(size=BALL_PX, pxMode=True, glOptions=_VISIBLE)
        # One item, two points per ball (its ring, then its hollow), so the rings of balls
        # sharing a spot nest instead of the hollows covering the smaller rings.
        self.xray_item = _BallSprites(size=RIM_PX, pxMode=True, glOptions=_HIDDEN)
        self._ball_items = (self.rim_item, self.ball_item, self.xray_item)
        self._batches = (
            _TrailBatch(mode="lines", width=3.0, antialias=True, glOptions=_VISIBLE),
            _TrailBatch(mode="lines", width=1.6, antialias=True, glOptions=_HIDDEN),
        )
        self.overlay_item = _Overlay(self)
        for item in (self.floor_item, self.surface_item, self.wireframe_item):
            self.addItem(item)
        # Trails are added in between (per run), then their batches; the balls stay last:
        # see _set_trails.
        for item in (*self._batches, *self._ball_items):
            self.addItem(item)
        self.addItem(self.overlay_item)

        # Mesh, wireframe and floor contours follow a slider drag at most once per frame
        # interval, always for the newest surface (see throttle.py).
        self._rebuild = Throttle(
            self._maybe_rebuild, parent=self, dragging=session.dragging_surface
        )
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
        self._static_rev += 1
        self._ball_key = None  # the x-ray hollows take the background's colour
        self._status = None  # re-colour rims and legend
        self._refresh_overlays()
        if self.session.trajectory is not None:
            self._show(self.session.frame)

    def set_marker_scale(self, factor: float) -> None:
        """Balls, rims and trail widths × `factor` (they are sized in pixels for a window:
        an export to 1080p or 4K scales them so they read as they do at 720p)."""
        self._marker_scale = scale = float(factor)
        for item in self._ball_items:
            item.bias_px = BALL_PX * scale / 2.0
        self._ball_key = None  # sizes are set per frame (rings), at this scale
        self.wireframe_item.setData(width=WIREFRAME_PX * scale)
        self.floor_item.setData(width=FLOOR_PX * scale)
        self._static_rev += 1
        self._set_trails(self._trails)

    def set_trail_length(self, n: int | None) -> None:
        """Steps of trail behind each ball; None draws the whole path so far."""
        self._trail_length = None if n is None else max(0, int(n))
        self._show(self.session.frame)

    def set_camera(self, azimuth: float, elevation: float, distance: float | None = None) -> None:
        self.setCameraPosition(
            azimuth=float(azimuth),
            elevation=float(elevation),
            distance=None if distance is None else float(distance),
        )

    def camera(self) -> tuple[float, float, float]:
        """(azimuth, elevation, distance) in degrees and world units."""
        return (
            float(self.opts["azimuth"]),
            float(self.opts["elevation"]),
            float(self.opts["distance"]),
        )

    def camera_preset(self, name: str) -> None:
        """Look from a preset angle with the surface framed to fill the view; the framing
        follows resizes and new surfaces until the user turns or zooms the camera.
        `AUTO` ("auto") looks from where the paths are best seen (`auto_camera`)."""
        self._preset = name
        azimuth, elevation = self.preset_angles(name)
        self.opts["center"] = pg.Vector(0.0, 0.0, Z_HEIGHT * 0.2)
        self.set_camera(azimuth, elevation, DEFAULT_DISTANCE)
        if self.width() >= MIN_FIT_PX and self.height() >= MIN_FIT_PX:
            fit_camera(
                self,
                (azimuth, elevation, DEFAULT_DISTANCE),
                QRectF(0, 0, self.width(), self.height()),
                [],
                None,
                0.0,
                0.0,
                apply=True,
            )
        self.update()

    def preset_angles(self, name: str) -> tuple[float, float]:
        """(azimuth, elevation) of camera preset `name`; for `AUTO`, chosen once per
        surface from the trajectory simulated on it (an edit that only moves the paths
        does not swing the camera)."""
        if name != AUTO:
            return PRESETS[name]
        hm = self._heightmap
        trajectory = self.session.trajectory
        current = trajectory is not None and self._simulated_on is self.session.surface
        if self._auto is not None and self._auto[0][0] is hm and (self._auto[0][1] or not current):
            return self._auto[1]
        if hm is None or trajectory is None:
            return PRESETS["isometric"]
        aspect = self.width() / max(self.height(), 1)
        az, el, _dist = auto_camera(hm, trajectory, aspect if aspect > 0 else 16 / 9)
        self._auto = ((hm, current), (az, el))
        return az, el

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
        self._static_rev += 1

    def wireframe(self) -> bool:
        return self.wireframe_item.visible()

    def set_floor_contours(self, on: bool) -> None:
        self.floor_item.setVisible(bool(on))
        if on and self._floor_stale:
            self._build_floor()
        self._static_rev += 1

    def floor_contours(self) -> bool:
        return self.floor_item.visible()

    def set_axes(self, on: bool) -> None:
        """Axes with ticks along the domain's two edges nearest the camera, named after
        the surface's coordinates (x, y; w, b for a data fit)."""
        self._annotations.axes = bool(on)
        if self._preset is not None:
            self.camera_preset(self._preset)  # frame the axes too (or no longer)
        self.overlay_item.update()

    def axes(self) -> bool:
        return self._annotations.axes

    def fit_points(self) -> np.ndarray | None:
        """World points a framing must show besides the mesh: with axes on, the rim of
        the two sides they are drawn on (those nearest the camera) moved out by the room
        their ticks and names take."""
        if not self._annotations.axes or self._heightmap is None or self._rim is None:
            return None
        points = [
            self._axis_points(axis, np.array(values), AXIS_ROOM)
            for axis, values in enumerate(self._edge_values())
        ]
        return np.concatenate(points)

    def _edge_values(self) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        assert self._heightmap is not None
        xmin, xmax, ymin, ymax = self._heightmap.domain
        return ((xmin, (xmin + xmax) / 2, xmax), (ymin, (ymin + ymax) / 2, ymax))

    def _axis_points(self, axis: int, values: np.ndarray, off: float) -> np.ndarray:
        """World points of data values `values` along axis `axis` (0: x, 1: y), on the
        mesh's rim on the side nearest the camera, `off` world units further out."""
        assert self._rim is not None
        wx, wy, wz = self._rim
        eye = self.cameraPosition()
        k = self._world_scale
        if axis == 0:  # along x, on the near y edge
            near = eye.y() <= 0
            profile, coords = (wz[:, 0] if near else wz[:, -1]), wx
            edge = wy[0] if near else wy[-1]
        else:  # along y, on the near x edge
            near = eye.x() <= 0
            profile, coords = (wz[0, :] if near else wz[-1, :]), wy
            edge = wx[0] if near else wx[-1]
        out = -1.0 if near else 1.0
        along = (np.atleast_1d(np.asarray(values, float)) - self._centre[axis]) * k
        pts = np.empty((along.size, 3))
        pts[:, axis] = along
        pts[:, 1 - axis] = edge + out * off
        pts[:, 2] = np.interp(along, coords, profile)
        return pts

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
        # No rebuild request: a new surface or height mode comes with surfaceChanged, and
        # a second request for the same edit would read as a drag's burst.
        self._refresh_overlays()

    def _maybe_rebuild(self) -> None:
        """Rebuild the mesh only for a new surface or height mode, never for other edits."""
        key = (self.session.surface, self.session.scene.surface.height)
        coarse = self._rebuild.coarse  # a drag: a coarser mesh keeps up, refined after
        if (
            self._hm_key is not None
            and key[0] is self._hm_key[0]
            and key[1] == self._hm_key[1]
            and (coarse or not self._hm_coarse)  # never coarsen a current full mesh
        ):
            return
        self._rebuild_surface(DRAG_GRID_SIZE if coarse else GRID_SIZE)
        self._hm_coarse = coarse
        if self._preset is not None and not coarse:  # a new shape: frame it afresh
            self.camera_preset(self._preset)
        if self.session.trajectory is not None:
            self._on_trajectory(self.session.trajectory)

    def _dynamic_items(self) -> list:
        """The items that change with the frame: trails, balls and the overlay (the rest,
        the surface's, change only through `_rebuild_surface` and the setters that bump
        `_static_rev`)."""
        trails = [item for pair in self._trail_items for item in pair]
        return [*trails, *self._batches, *self._ball_items, self.overlay_item]

    def _rebuild_surface(self, n: int = GRID_SIZE) -> None:
        self._static_rev += 1
        surface = self.session.surface
        self._hm_key = (surface, self.session.scene.surface.height)
        hm = build_heightmap(surface, self.session.scene.surface.height, n)
        self._heightmap = hm
        xmin, xmax, ymin, ymax = hm.domain
        self._centre = ((xmin + xmax) / 2, (ymin + ymax) / 2)
        self._world_scale = WORLD / max(xmax - xmin, ymax - ymin)
        self._z_scale = Z_HEIGHT / max(hm.h_max, 1e-12)
        wx = ((hm.xs - self._centre[0]) * self._world_scale).astype(np.float32)
        wy = ((hm.ys - self._centre[1]) * self._world_scale).astype(np.float32)
        wz = (hm.h * self._z_scale).astype(np.float32)
        # The axes run along the mesh's rim (its four edge profiles): ticks sit on the
        # surface's edge, so they add no height to the framing and never float below it.
        self._rim = (wx.astype(float), wy.astype(float), rim_heights(wz, hm.defined))
        unit = hm.h / max(hm.h_max, 1e-12)
        colours = self._cmap.map(unit.ravel(), mode="float").reshape(unit.shape + (4,))
        # At a hole's rim the slope runs into no value: shade those points as flat ground
        # rather than as a cliff down to the hole's placeholder height.
        relief = wz if hm.defined is None else np.where(hm.defined, wz, np.nan)
        shade = hillshade(relief, float(wx[1] - wx[0]), float(wy[1] - wy[0]))
        shade = np.where(np.isnan(shade), FLAT_SHADE, shade)
        colours[..., :3] *= (0.62 + 0.38 * shade)[..., None]
        self.surface_item.set_surface(
            wx, wy, wz, colours.reshape(-1, 4).astype(np.float32), hm.defined
        )

        # Wireframe: every few grid lines, drawn as segments just above the mesh; none
        # with an end in a hole of f.
        k = WIREFRAME_EVERY
        gx, gy = np.meshgrid(wx, wy, indexing="ij")
        pts = np.stack([gx, gy, wz + 0.01], -1)
        ok = hm.mask
        along_y = np.stack([pts[::k, :-1], pts[::k, 1:]], 2)[ok[::k, :-1] & ok[::k, 1:]]
        along_x = np.stack([pts[:-1, ::k], pts[1:, ::k]], 2)[ok[:-1, ::k] & ok[1:, ::k]]
        self.wireframe_item.setData(
            pos=np.concatenate([along_y.reshape(-1, 3), along_x.reshape(-1, 3)])
        )

        # Floor isolines: built when shown (they are off by default, and a drag would
        # rebuild them at every step for nothing).
        self._floor_source = (wx, wy)
        self._floor_stale = True
        if self.floor_item.visible():
            self._build_floor()

    def _build_floor(self) -> None:
        """The floor's isolines in the colormap's colours, like a map under the landscape."""
        hm = self._heightmap
        if hm is None or self._floor_source is None:
            return
        wx, wy = self._floor_source
        self._floor_stale = False
        levels = hm.levels()
        segs, seg_levels = [], []
        for level in levels:
            # From the heights themselves: float32 `wz` over a tiny scale (a surface with a
            # range near 1e300) divides by zero.
            s = isoline_segments(wx, wy, hm.h, np.array([level]), hm.defined)
            segs.append(s)
            seg_levels.append(np.full(len(s), level))
        floor = np.concatenate(segs) if segs else np.zeros((0, 2, 2))
        lv = np.concatenate(seg_levels) if seg_levels else np.zeros(0)
        if len(floor):
            pos = np.concatenate([floor, np.full(floor.shape[:2] + (1,), FLOOR)], -1)
            col = self._cmap.map(np.repeat(lv / max(hm.h_max, 1e-12), 2), mode="float")
            self.floor_item.setData(
                pos=pos.reshape(-1, 3).astype(np.float32), color=col.astype(np.float32)
            )
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
        if self._preset == AUTO and self._auto is not None and not self._auto[0][1]:
            self.camera_preset(AUTO)  # chosen before this surface's paths were known

    def _on_trajectory(self, trajectory) -> None:
        """Cheap: the trajectory's own positions and losses are the display (see trails.py);
        the surface is evaluated only where a ball is drawn away from its true position.
        Trails of runs with few balls are laid out once (a frame hands a view of them);
        a start grid's short trails are built per frame from their window."""
        if self._heightmap is None:
            return
        runs = self.session.scene.runs
        surface = self.session.surface
        tracks = Tracks(
            trajectory,
            self._heightmap.domain,
            len(runs),
            surface.value,
            recorded_loss=self._simulated_on is surface,
        )
        self._tracks = tracks
        colours = np.zeros((trajectory.positions.shape[1], 4), np.float32)
        trails = []
        for rt in tracks.runs:
            colours[rt.cols] = rgba(runs[rt.run].color)
            if not lays_out(rt, tracks.frames):  # built per frame from its window
                trails.append(_Trail(rt, Repeats(None, windows=rt.n <= SHORT_TRAIL_BALLS)))
                continue
            world, ok = self._world_window(rt, 0, tracks.frames)
            segs, offsets = compact_segments(world, ok)
            trails.append(_Trail(rt, Repeats(segs), segs.reshape(-1, 3), 2 * offsets))
        self._ball_colours = colours
        self._ball_key = None
        self._set_trails(trails)
        self._status = None
        self._show(self.session.frame)

    def _world_window(
        self, rt: RunTrack, start: int, stop: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A run's balls over steps [start, stop) in world points, and which may carry a trail."""
        assert self._tracks is not None
        xy, f, ok = self._tracks.window(rt, start, stop, loss=True)
        world = self.to_world(xy, f)
        world[..., 2] += LIFT
        return world, ok

    def _trail_vertices(self, trail: _Trail, start: int, stop: int) -> np.ndarray:
        """(2M, 3) vertices of a run's trail segments over steps [start, stop), each segment
        once (a repeat of an earlier one is left out: `Repeats`)."""
        if trail.vertices is not None:
            a, b = trail.offsets[start], trail.offsets[stop]
            segs = trail.vertices[a:b].reshape(-1, 2, 3)
        else:
            segs, _ = compact_segments(*self._world_window(trail.track, start, stop + 1))
        return trail.repeats.leave_out(segs, start).reshape(-1, 3)

    def _set_trails(self, trails: list[_Trail]) -> None:
        runs = self.session.scene.runs
        while len(self._trail_items) < len(trails):
            solid = _TrailLine(mode="lines", width=3.0, antialias=True, glOptions=_VISIBLE)
            ghost = _TrailLine(mode="lines", width=1.5, antialias=True, glOptions=_HIDDEN)
            # Insert before the batches and balls so balls are painted over their trails.
            for item in (*self._batches, *self._ball_items):
                self.removeItem(item)
            self.addItem(solid)
            self.addItem(ghost)
            for item in (*self._batches, *self._ball_items):
                self.addItem(item)
            self._trail_items.append((solid, ghost))
        self._trails = trails
        scale = self._marker_scale
        solid_batch, ghost_batch = self._batches
        solid_batch.setData(width=3.0 * scale)
        ghost_batch.setData(width=1.6 * scale)
        solid_batch.members, ghost_batch.members = [], []
        for k, (solid, ghost) in enumerate(self._trail_items):
            batched = k < len(trails) and trails[k].track.n <= SHORT_TRAIL_BALLS
            solid.batched = ghost.batched = batched
            if batched:
                solid_batch.members.append(solid)
                ghost_batch.members.append(ghost)
            if k < len(trails):
                rt = trails[k].track
                if rt.n <= SHORT_TRAIL_BALLS:
                    solid.setData(
                        color=rgba(runs[rt.run].color, 0.95), width=3.0 * scale, antialias=True
                    )
                    ghost.setData(color=rgba(runs[rt.run].color, 0.55), width=1.6 * scale)
                else:
                    # A start grid: hundreds of faint tails that only show the flow. Plain
                    # lines and no ghost through the hills halve a played frame of a 20×20
                    # grid in software GL (about 50 → 25 ms).
                    solid.setData(
                        color=rgba(runs[rt.run].color, 0.45), width=2.0 * scale, antialias=False
                    )
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
        status = status_at(trajectory, frame)
        status_changed = self._status is None or not np.array_equal(status, self._status)
        if has_balls:
            self._show_balls(self.ball_world(frame), status, status_changed)
        for item in self._ball_items:
            item.setVisible(has_balls)
        for items, trail in zip(self._trail_items, self._trails, strict=False):
            start = trail_window(frame, self._trail_length, trail.track.n)
            pos = self._trail_vertices(trail, start, frame) if frame > start else None
            shown = pos is not None and len(pos) > 0
            for item in items[: 1 if trail.track.n > SHORT_TRAIL_BALLS else 2]:
                if shown:
                    item.setData(pos=pos)
                item.setVisible(shown)
            if trail.track.n > SHORT_TRAIL_BALLS:
                items[1].setVisible(False)
        self._show_marks(tracks, frame, status)
        if status_changed:
            self._status = status
            self._refresh_overlays()

    def _show_balls(self, pos: np.ndarray, status: np.ndarray, restyle: bool) -> None:
        """Balls at world `pos`: balls sharing a spot grow rings (`coincident_rings`),
        rims coloured by status, x-ray rings in the runs' colours."""
        rings = coincident_rings(pos[:, :2], COINCIDENT * WORLD)
        # Within a group the rings shrink with the ball's index, so drawing in ball order
        # paints the widest first (groups lie apart, so their order does not matter).
        key = (rings.tobytes() if rings.any() else None, self._marker_scale, len(pos))
        if restyle or key != self._ball_key:
            self._ball_key = key
            scale, t = self._marker_scale, self._theme
            size = ((BALL_PX + RING_PX * rings) * scale).astype(np.float32)
            rim = np.empty((status.size, 4), np.float32)
            rim[:] = rgba(t.outline, 0.9)
            rim[status == CONVERGED] = rgba(t.converged, 1.0)
            rim[status == DIVERGED] = rgba(t.diverged, 1.0)
            colours = self._ball_colours
            if len(colours) != len(pos):
                colours = np.ones((len(pos), 4), np.float32)
            border = np.float32((RIM_PX - BALL_PX) * scale)
            self.ball_item.setData(size=size, color=colours)
            self.rim_item.setData(size=size + border, color=rim)
            xray_size = np.empty(2 * len(size), np.float32)
            xray_size[0::2] = size + border
            xray_size[1::2] = size + border - 2 * XRAY_RING_PX * scale
            xray = np.empty((2 * len(size), 4), np.float32)
            xray[0::2] = colours
            xray[0::2, 3] = 0.95
            xray[1::2] = rgba(t.background, 0.8)
            self.xray_item.setData(size=xray_size, color=xray)
        self.ball_item.setData(pos=pos)
        self.rim_item.setData(pos=pos)
        self.xray_item.setData(pos=np.repeat(pos, 2, axis=0))

    def _show_marks(self, tracks: Tracks, frame: int, status: np.ndarray) -> None:
        """An arrow, and the state, for each ball drawn at the edge it left by."""
        marks: list[tuple[np.ndarray, np.ndarray, QColor, str]] = []
        if tracks.fix.size:
            idx, dirs, diverged = edge_marks(tracks, frame, status)
            if idx.size:
                world = self.ball_world(frame)[idx]
                runs = self.session.scene.runs
                trajectory = self.session.trajectory
                assert trajectory is not None
                ball_run = np.asarray(trajectory.ball_run)[idx]
                n_balls = {rt.run: rt.n for rt in tracks.runs}
                labelled = 0
                for k in range(idx.size):
                    run = int(ball_run[k])
                    # A run the scene no longer has (removed, its new paths still coming).
                    gone = run >= len(runs)
                    colour = QColor(
                        self._theme.diverged if diverged[k] or gone else runs[run].color
                    )
                    label = ""
                    if labelled < MAX_EDGE_LABELS and n_balls.get(run, 0) <= SHORT_TRAIL_BALLS:
                        label = "diverged" if diverged[k] else "outside"
                        labelled += 1
                    marks.append((world[k], dirs[k], colour, label))
        if marks or self._annotations.marks:
            self._annotations.marks = marks or None
            self.overlay_item.update()

    # ------------------------------------------------------------------ overlay

    def _paint_axes(self, painter: QPainter, to_px) -> None:
        """Ticks and names along the mesh's rim on the two sides nearest the camera."""
        hm = self._heightmap
        if hm is None or self._rim is None:
            return
        scale = self._marker_scale
        colour = QColor(self._theme.foreground)
        pen = QPen(colour, 1.3 * scale)
        tick_font = QFont()
        tick_font.setPixelSize(max(1, round(12 * scale)))
        name_font = QFont(tick_font)
        name_font.setPixelSize(max(1, round(15 * scale)))
        name_font.setBold(True)
        names = axis_names(self.session.surface)
        for axis, (lo, _mid, hi) in enumerate(self._edge_values()):
            line, ok = to_px(self._axis_points(axis, np.linspace(lo, hi, 60), 0.0))
            if not ok.all():
                continue
            painter.setPen(pen)
            painter.drawPolyline(QPolygonF([QPointF(*p) for p in line]))
            ticks = nice_ticks(lo, hi, AXIS_TICKS)
            if ticks.size == 0:
                continue
            step = float(ticks[1] - ticks[0]) if ticks.size > 1 else 0.0
            base, ok0 = to_px(self._axis_points(axis, ticks, 0.0))
            tip, ok1 = to_px(self._axis_points(axis, ticks, 0.22))
            at, ok2 = to_px(self._axis_points(axis, ticks, 0.55))
            painter.setFont(tick_font)
            tick_metrics = QFontMetricsF(tick_font)
            taken: list[QRectF] = []  # the tick labels' boxes: the name keeps off them
            for i, v in enumerate(ticks):
                if not (ok0[i] and ok1[i] and ok2[i]):
                    continue
                painter.drawLine(QPointF(*base[i]), QPointF(*tip[i]))
                text = tick_text(float(v), step)
                _centred_text(painter, at[i], text)
                taken.append(_text_box(tick_metrics, at[i], text, 2 * scale))
            where = self._name_place(axis, lo, hi, ticks, names[axis], name_font, taken, to_px)
            if where is not None:
                painter.setFont(name_font)
                _centred_text(painter, where, names[axis])

    def _name_place(
        self,
        axis: int,
        lo: float,
        hi: float,
        ticks: np.ndarray,
        name: str,
        font: QFont,
        taken: list[QRectF],
        to_px,
    ) -> np.ndarray | None:
        """Where an axis name goes (its centre in pixels): beyond the tick labels, at the
        middle of the axis or else of the gap between two ticks nearest it, clear of every
        tick label (a long name such as "PC2 11%" at the middle covered the tick there);
        failing that, pushed further out until clear. None when the axis is behind."""
        metrics = QFontMetricsF(font)
        pad = 2 * self._marker_scale
        edges = np.concatenate([[lo], ticks[(ticks > lo) & (ticks < hi)], [hi]])
        middles = (edges[:-1] + edges[1:]) / 2
        centre = (lo + hi) / 2
        values = np.concatenate([[centre], middles[np.argsort(np.abs(middles - centre))]])
        spots, ok = to_px(self._axis_points(axis, values, 1.0))
        if not ok[0]:
            return None
        for spot, fine in zip(spots, ok, strict=True):
            box = _text_box(metrics, spot, name, pad)
            if fine and not any(box.intersects(t) for t in taken):
                return spot
        # No gap is clear: out from the axis's middle, away from the rim, step by step.
        rim, _ = to_px(self._axis_points(axis, np.array([centre]), 0.0))
        out = spots[0] - rim[0]
        out = out / max(float(np.hypot(*out)), 1e-9)
        spot = spots[0]
        for _ in range(40):
            if not any(_text_box(metrics, spot, name, pad).intersects(t) for t in taken):
                break
            spot = spot + out * 2 * self._marker_scale
        return spot

    def _paint_marks(self, painter: QPainter, to_px) -> None:
        """For each ball outside the domain: an arrow from the ball pointing the way it
        left, outlined so it reads on any colour, and its state beyond the arrow's tip."""
        scale = self._marker_scale
        t = self._theme
        font = QFont()
        font.setPixelSize(max(1, round(12 * scale)))
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        w, h = self._overlay_px
        for point, direction, colour, label in self._annotations.marks or []:
            ends, ok = to_px(np.array([point, point + np.r_[direction * 0.6, 0.0]]))
            if not ok.all():
                continue
            a = ends[0]
            u = ends[1] - a
            norm = float(np.hypot(*u))
            u = u / norm if norm > 1e-6 else np.array([1.0, 0.0])
            n = np.array([-u[1], u[0]])
            r = (RIM_PX / 2 + 2) * scale
            tail, tip = a + u * r, a + u * (r + 20 * scale)
            head = [tip - u * 8 * scale + n * 5 * scale, tip, tip - u * 8 * scale - n * 5 * scale]
            for pen_colour, width in ((QColor(t.outline), 5.0), (colour, 2.6)):
                pen = QPen(pen_colour, width * scale)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
                painter.setPen(pen)
                painter.drawLine(QPointF(*tail), QPointF(*tip))
                painter.drawPolyline(QPolygonF([QPointF(*p) for p in head]))
            if not label:
                continue
            tw, th = metrics.horizontalAdvance(label) + 8 * scale, metrics.height() + 2 * scale
            centre = tip + u * (4 * scale + 0.5 * abs(u[0]) * tw + 0.5 * abs(u[1]) * th)
            box = QRectF(centre[0] - tw / 2, centre[1] - th / 2, tw, th)
            if not QRectF(0, 0, w, h).contains(box):
                # No room beyond the arrow (the ball is at the frame's edge): the inner side.
                centre = a - u * (r + 4 * scale + 0.5 * abs(u[0]) * tw + 0.5 * abs(u[1]) * th)
                box = QRectF(centre[0] - tw / 2, centre[1] - th / 2, tw, th)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(t.panel))
            painter.drawRoundedRect(box, 3 * scale, 3 * scale)
            painter.setPen(colour)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)

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
        self.xray_item.setData(pos=np.repeat(pos, 2, axis=0))  # the hidden rings glide too
        for items, trail in zip(self._trail_items, self._trails, strict=False):
            n = trail.track.n
            cols = trail.track.ball_index
            tips = np.stack([a[cols], pos[cols]], 1).reshape(-1, 3)
            start = trail_window(k, self._trail_length, n)
            base = self._trail_vertices(trail, start, k) if k > start else tips[:0]
            vertices = np.concatenate([base, tips])
            for item in items[: 1 if n > SHORT_TRAIL_BALLS else 2]:
                item.setData(pos=vertices)
                item.setVisible(True)


def _text_box(metrics: QFontMetricsF, at: np.ndarray, text: str, pad: float) -> QRectF:
    """The box `text` takes when drawn centred at `at` (`_centred_text`), grown by `pad`."""
    w, h = metrics.horizontalAdvance(text), metrics.height()
    return QRectF(at[0] - w / 2 - pad, at[1] - h / 2 - pad, w + 2 * pad, h + 2 * pad)


def _centred_text(painter: QPainter, at: np.ndarray, text: str) -> None:
    painter.drawText(QRectF(at[0] - 150, at[1] - 40, 300, 80), Qt.AlignmentFlag.AlignCenter, text)


class _StaticLayer:
    """The items that do not change from frame to frame (the surface, its wireframe and
    floor isolines: everything drawn before the first trail; and the axes) kept as a
    picture with its depth buffer, so a frame of a clip copies them instead of drawing
    44,000 triangles and some twenty labels again. `key` names what the picture shows:
    camera, size, background, axes on or off and `_Scene3D._static_rev` (bumped by
    whatever changes those items)."""

    def __init__(self) -> None:
        self.fbo: QOpenGLFramebufferObject | None = None
        self.key: tuple | None = None  # what `fbo` holds
        self.last: tuple | None = None  # what the previous paint showed

    def release(self) -> None:
        self.fbo = None
        self.key = self.last = None


class _LayeredPaint:
    """Paints a `_Scene3D` with its static items kept in a `_StaticLayer` (see `View3D`):
    the export's widget and the window's GL window both start each frame from a copy of
    the surface while the camera stands still. `_layer_axes`: whether the axes go into the
    layer (an export) or the window's overlay draws them over everything."""

    _layer_axes = True

    def _init_layer(self) -> None:
        self.static_layer = True  # False: draw every item every frame (tests compare)
        self._layer = _StaticLayer()

    def paint(self, *, region, viewport, useItemNames: bool = False) -> None:
        split = None if useItemNames or tuple(region) != tuple(viewport) else self._static_split()
        if split is None:
            self._axes_in_layer = False
            super().paint(region=region, viewport=viewport, useItemNames=useItemNames)
            return
        static, dynamic = split
        self.setProjection(region, viewport)
        self.setModelview()
        # Both ways below draw the axes with the surface, under trails and balls, so a
        # frame looks the same whether its surface was kept or drawn.
        self._axes_in_layer = self._layer_axes
        x0, y0, w, h = (int(v) for v in GL.glGetIntegerv(GL.GL_VIEWPORT))
        key = (
            tuple(self.currentProjection().data()),
            tuple(self.currentModelView().data()),
            (x0, y0, w, h),
            tuple(self.opts["bgcolor"]),
            self._static_rev,
            tuple(id(i) for i in static),
            tuple(i.visible() for i in static),
            self._annotations.axes,
        )
        layer = self._layer
        moving, layer.last = key != layer.last, key
        target = self.defaultFramebufferObject()
        # Multisampled framebuffers are left out: a copy between them kept fewer of the
        # surface's edge samples than drawing it. (The widget's format() reports the
        # context's samples, not its framebuffer's.)
        keep = self.static_layer and int(GL.glGetIntegerv(GL.GL_SAMPLES)) <= 1
        if not keep or (moving and key != layer.key):
            GL.glClearColor(*self.opts["bgcolor"])
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
            self._draw_static(static, self, target)
            self._draw_items(dynamic)
            return
        if key != layer.key:
            fbo = layer.fbo
            if fbo is None or (fbo.width(), fbo.height()) != (w, h):
                # The widget's own framebuffer's attachments (QOpenGLWidget: RGBA8 colour,
                # packed depth and stencil): a blit copies only between equal formats.
                fmt = QOpenGLFramebufferObjectFormat()
                fmt.setAttachment(QOpenGLFramebufferObject.Attachment.CombinedDepthStencil)
                fbo = layer.fbo = QOpenGLFramebufferObject(w, h, fmt)
            fbo.bind()
            GL.glClearColor(*self.opts["bgcolor"])
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
            self._draw_static(static, QOpenGLPaintDevice(QSize(w, h)), fbo.handle())
            layer.key = key
        assert layer.fbo is not None
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, layer.fbo.handle())
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, target)
        try:
            GL.glBlitFramebuffer(
                x0,
                y0,
                x0 + w,
                y0 + h,
                x0,
                y0,
                x0 + w,
                y0 + h,
                # Depth with stencil: llvmpipe then copies the packed depth-stencil words as
                # they are; depth alone (keeping the stencil) goes through a shader, 10× slower.
                GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT | GL.GL_STENCIL_BUFFER_BIT,
                GL.GL_NEAREST,
            )
            copied = GL.glGetError() == GL.GL_NO_ERROR
        except GLError:
            copied = False
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target)
        if not copied:
            # A window whose depth-stencil format differs from the layer's cannot take the
            # copy (drivers differ): this view draws every item from now on.
            self.static_layer = False
            layer.release()
            GL.glClearColor(*self.opts["bgcolor"])
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
            self._draw_static(static, self, target)
        self._draw_items(dynamic)

    def _draw_static(self, static: list, device, framebuffer: int) -> None:
        """The static items, then the axes painted over them on `device` (the widget, or a
        QOpenGLPaintDevice on the layer's framebuffer): ticks and names are laid out once
        per kept layer instead of some twenty texts a frame. Leaves `framebuffer` bound."""
        self._draw_items(static)
        if self._annotations.axes and self._layer_axes:
            self.overlay_item.paint_on(device, True, False)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, framebuffer)

    def _static_split(self) -> tuple[list, list] | None:
        """The top-level items in drawing order, split into the static ones and the rest;
        None when the static ones are not all drawn first (then nothing is kept)."""
        items = sorted(
            (i for i in self.items if i.parentItem() is None), key=lambda a: a.depthValue()
        )
        moving = {id(i) for i in self._dynamic_items()}
        static = [i for i in items if id(i) not in moving]
        if items[: len(static)] != static:
            return None
        return static, items[len(static) :]

    def _draw_items(self, items: list) -> None:
        """`drawItemTree` for some of the top-level items."""
        for item in items:
            self._modelViewStack.append(self.currentModelView() * item.transform())
            try:
                self.drawItemTree(item)
            finally:
                self._modelViewStack.pop()


class View3D(_Scene3D, _LayeredPaint, gl.GLViewWidget):
    """`View3D(session)` as a QOpenGLWidget: standalone, offscreen export and tests.

    In software GL the surface mesh is most of a frame's cost, and an export's camera
    stands still (unless it orbits): the static items are drawn once into a framebuffer of
    their own and each frame starts from a copy of its colour and depth (`glBlitFramebuffer`),
    then draws trails, balls and the overlay over it. Frames are pixel-identical to drawing
    everything (the axes lie under trails and balls either way; the window's `_Overlay`
    draws them over). A camera that moves on two paints running (an orbit, a drag) draws
    directly: a picture it would use once is not worth keeping.
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        gl.GLViewWidget.__init__(self, parent)
        self.setMinimumSize(200, 150)
        self._init_layer()
        self._init_scene(session)


class View3DWindow(_Scene3D, _LayeredPaint, GLViewMixin, QOpenGLWindow):
    """The same scene in a native GL window, for the main window (see `_Scene3D`). Its
    axes are drawn over trails and balls by the overlay, so they stay out of the layer."""

    _layer_axes = False

    statusChanged = pyqtSignal()

    def __init__(self, session: Session) -> None:
        # One cooperative call: GLViewMixin.__init__ chains to QOpenGLWindow.__init__
        # (calling both makes a second, orphaned C++ window that crashes PyQt later).
        # Under AA_ShareOpenGLContexts its context shares with the export's hidden
        # View3D, as pyqtgraph's process-wide cache of compiled shaders needs.
        super().__init__()
        # Keyboard focus stays with the widgets, so window shortcuts (Space, arrows) work.
        self.setFlag(Qt.WindowType.WindowDoesNotAcceptFocus, True)
        self._init_layer()
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
        for role, colour in (
            (QPalette.ColorRole.Window, t.background),
            (QPalette.ColorRole.WindowText, t.foreground),
            (QPalette.ColorRole.Text, t.foreground),
        ):
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

    def set_axes(self, on: bool) -> None:
        self.view.set_axes(on)

    def axes(self) -> bool:
        return self.view.axes()

    def grab_scene(self) -> QImage:
        """The GL window's current picture (QWidget.grab() cannot see a native GL window)."""
        return self.view.grabFramebuffer()

    def _refresh_overlays(self, *_unused: object) -> None:
        scene = self.session.scene
        text = legend_html(scene.runs, self.session.trajectory, self.view._status, self._theme)
        self.legend.setText(text)
        self.title.setText(scene.title or getattr(self.session.surface, "title", ""))
