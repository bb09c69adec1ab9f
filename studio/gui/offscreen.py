"""Render a scene's frames at any size, for File → Export animation and `studio render`.

The renderer builds its own `Session(scene, threaded=False)` and the same view classes the
window shows (so colours, markers and trails match the GUI), as hidden widgets resized to
the export size. Per frame it moves the session to a step and grabs each view:

- 3D: `grabFramebuffer()` of the hidden GLViewWidget (about 4× faster than
  `renderToArray()`, which tiles through 1024² buffers), sized in logical pixels so the
  framebuffer is exactly the export size at any device pixel ratio (a HiDPI screen must
  not change an export: same layout, same marker sizes, no rescaling).
- 2D (contour, loss): each plot's scene rendered into a QImage whose device pixel ratio
  is the export's UI scale, so the plots look the same at 1080p as at 720p; their axis
  fonts are sized for the export (`axis_font_px`), legible in a small GIF.

Title, legend and step counter are drawn with QPainter at the export resolution (the
views' own QLabel overlays are child widgets and never reach a framebuffer grab), where
they cover no data: see `OffscreenRenderer`.
Frames are produced one at a time (`render_frames` is a generator; `export` streams them to
an encoder), so memory stays flat however long the clip.

GL needs the GUI thread: the GUI drives `OffscreenRenderer.render(i)` from a timer in small
slices (studio.gui.export_worker); the encoder runs in its own process.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QCoreApplication, QPoint, QPointF, QRect, QRectF, QSize, QSizeF, Qt
from PyQt6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QRegion,
    QVector3D,
)
from PyQt6.QtWidgets import QGraphicsItem, QWidget

from studio.engine import run_label
from studio.errors import StudioError
from studio.export import ExportError, format_of, open_writer
from studio.gui.session import Session
from studio.gui.theme import Theme, theme_for
from studio.gui.views.legend import run_outcome
from studio.gui.views.trails import status_at
from studio.scene import Scene

VIEWS = ("3d", "contour", "loss", "composite")
DEFAULT_SECONDS = 10.0    # a run longer than this at one step per frame is spread over it
MAX_FRAMES = 100_000
BASE_HEIGHT = 720.0       # overlay sizes are designed at 720p and scaled with the frame


class ExportCancelled(ExportError):
    """The user cancelled; nothing was written."""


@dataclass(frozen=True)
class RenderOptions:
    """Everything about how a scene becomes frames (the scene says what is simulated).

    Clip length: `frames`, else `duration` × fps, else `steps_per_frame`, else one step
    per frame capped at DEFAULT_SECONDS (longer runs are spread evenly over that time).
    `still`: a single frame at `to_step` (PNG).
    `title`: None for the default (the scene's title, else the surface's name and formula),
    "" for none. `camera`: (azimuth, elevation, distance) to start from; None = the 3D
    view's default. `orbit`: degrees the camera turns over the clip.
    """

    size: tuple[int, int] = (1280, 720)
    fps: float = 30.0
    view: str = "3d"
    title: str | None = None
    legend: bool = True
    step_counter: bool = True
    dark: bool = True
    trail: int | None = None
    camera: tuple[float, float, float | None] | None = None
    orbit: float = 0.0
    from_step: int = 0
    to_step: int | None = None
    frames: int | None = None
    duration: float | None = None
    steps_per_frame: int | None = None
    still: bool = False


def plan_steps(options: RenderOptions, last_step: int) -> np.ndarray:
    """The step shown by each frame (non-decreasing ints in [from, to])."""
    lo = options.from_step
    hi = last_step if options.to_step is None else options.to_step
    if hi > last_step:
        raise StudioError(f"--to {hi} is past the last step ({last_step})")
    if lo > hi:
        raise StudioError(f"the range starts at step {lo}, after its end {hi}")
    if options.still:
        return np.array([hi])
    if options.frames is not None:
        n = options.frames
    elif options.duration is not None:
        n = max(1, round(options.duration * options.fps))
    elif options.steps_per_frame is not None:
        steps = np.arange(lo, hi + 1, options.steps_per_frame)
        return steps if steps[-1] == hi else np.append(steps, hi)
    else:
        n = min(hi - lo + 1, max(1, round(DEFAULT_SECONDS * options.fps)))
    if n > MAX_FRAMES:
        raise StudioError(f"{n} frames is too long a clip (at most {MAX_FRAMES})")
    if n == 1:
        return np.array([hi])
    return np.rint(np.linspace(lo, hi, n)).astype(int)


# ------------------------------------------------------------------------------ text


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def pretty_formula(text: str) -> str:
    """Formula text as a slide shows it: x^2 → x², 100*(…) → 100(…), a*b → a·b, - → −."""
    def sup(m: re.Match[str]) -> str:
        return m.group(1).translate(_SUPERSCRIPT)

    s = re.sub(r"\^\((-?\d+)\)", sup, text)             # x^(-1) → x⁻¹
    s = re.sub(r"\^(\d+)", sup, s)                      # x^2 → x²
    s = re.sub(r"(\d)\*(?=[A-Za-z(])", r"\1", s)       # 100*(y - x²) → 100(y - x²)
    s = s.replace("*", "·")
    s = re.sub(r"(?<![0-9.][eE])-", "−", s)            # keep 1e-3 as it is
    return s


def default_title(scene: Scene, surface: object) -> str:
    """The scene's title, else "Name   f(x, y) = formula" with parameter values filled in."""
    if scene.title.strip():
        return scene.title.strip()
    formula = getattr(surface, "expression", "")
    symbolic, params = getattr(surface, "symbolic", None), getattr(surface, "params", None)
    if symbolic is not None and params:
        from studio.surface.printing import pretty

        symbols = {s.name: s for s in symbolic.free_symbols}
        formula = pretty(symbolic.subs({symbols[k]: v for k, v in params.items()
                                        if k in symbols}))
        formula = re.sub(r"(\d+)\.0\b", r"\1", formula)  # 100.0 → 100
    name = getattr(surface, "title", "")
    shown = f"f(x, y) = {pretty_formula(formula)}" if formula else ""
    if name and name.lower() != "custom":
        return f"{name}    {shown}".strip()
    return shown


# ------------------------------------------------------------------------------ views


@dataclass
class _Panel:
    """One view placed in the frame: its widget, where it goes, how it is grabbed."""

    kind: str
    widget: QWidget
    rect: QRect


def _make_view(kind: str, session: Session) -> QWidget:
    if kind == "3d":
        from studio.gui.views.view3d import View3D
        return View3D(session)
    if kind == "contour":
        from studio.gui.views.contour import ContourView
        return ContourView(session)
    from studio.gui.views.loss_plot import LossView
    view = LossView(session)
    # The window's loss view carries its own controls (log scale, lower plot); a slide
    # shows the plots alone.
    from PyQt6.QtWidgets import QCheckBox, QComboBox, QLabel
    for control in (QCheckBox, QComboBox, QLabel):
        for child in view.findChildren(control):
            child.hide()
    return view


def layout(view: str, size: tuple[int, int], top: int) -> list[tuple[str, QRect]]:
    """Rectangles for each view: composite puts 3D on the left 60 %, contour over loss on
    the right (both 2D views keep a useful aspect in a 16:9 frame)."""
    w, h = size
    body = QRect(0, top, w, h - top)
    if view != "composite":
        return [(view, body)]
    left = (w * 3 // 5) & ~1
    half = body.height() // 2
    return [("3d", QRect(0, top, left, body.height())),
            ("contour", QRect(left, top, w - left, half)),
            ("loss", QRect(left, top + half, w - left, body.height() - half))]


def orbit_turn(orbit: float, index: int, n_frames: int) -> float:
    """Degrees the camera has turned at frame `index`: 0 at the first frame, the whole
    `orbit` at the last (a one-frame clip stays at the start)."""
    return orbit * index / (n_frames - 1) if n_frames > 1 else 0.0


def axis_font_px(size: tuple[int, int]) -> float:
    """Pixel size of the 2D plots' tick labels in a frame of `size`: legible in a small
    GIF (15 px at 800×450), growing more slowly than the frame (31 px at 4K, not 48)."""
    w, h = size
    scale = min(h / BASE_HEIGHT, w / (BASE_HEIGHT * 16 / 9))
    return max(15.0, 16.0 * scale ** 0.6)


def project(eye: np.ndarray, distance: float, size: tuple[float, float],
            fov: float) -> tuple[np.ndarray, np.ndarray]:
    """Panel pixels (x right, y down) of points given in eye coordinates of a camera at
    distance 0, seen from `distance`. pyqtgraph's field of view `fov` spans the width."""
    w, h = size
    tan = math.tan(math.radians(fov) / 2)
    depth = np.maximum(distance - eye[:, 2], 1e-9)
    return w / 2 * (1 + eye[:, 0] / (depth * tan)), h / 2 - eye[:, 1] / (depth * tan) * w / 2


def fit_distance(points: list[np.ndarray], size: tuple[float, float], fov: float,
                 keep_out: list[QRectF], bounds: QRectF, near: float, far: float) -> float:
    """The nearest camera distance in [near, far] at which every point lies inside `bounds`
    and outside every `keep_out` rectangle (panel pixels, y down).

    `points`: the surface's vertices in eye coordinates of a camera at distance 0, one
    (n, 3) array per azimuth the clip shows (an orbit turns the surface under the
    overlays). The field of view spans the panel's width, so a narrow panel does not crop
    the sides: it only leaves room above and below, and the fit comes closer until the
    width (or the title, legend and step counter) bounds the surface.
    """
    boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in keep_out]

    def fits(distance: float) -> bool:
        for eye in points:
            if (distance - eye[:, 2]).min() <= 1e-6:
                return False
            x, y = project(eye, distance, size, fov)
            if (x.min() < bounds.left() or x.max() > bounds.right()
                    or y.min() < bounds.top() or y.max() > bounds.bottom()):
                return False
            for x0, y0, x1, y1 in boxes:
                if np.any((x > x0) & (x < x1) & (y > y0) & (y < y1)):
                    return False
        return True

    if not fits(far):
        return far
    if fits(near):
        return near
    lo, hi = near, far  # lo does not fit, hi does
    while hi - lo > 1e-3 * hi:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


class OffscreenRenderer:
    """Frames of one scene with one set of options; `render(i)` → uint8 (h, w, 3) RGB.

    Where the overlays go is decided once, for the whole clip (nothing jumps between
    frames): `title_rect`, `legend_rect` and `step_rect` are in frame pixels (None when
    not drawn). Over a 2D view they never cover data or axes: the title and step counter
    share a band above the plots and the legend takes the emptiest corner inside a plot
    (or a column of its own beside the plots). Over a 3D view they sit in the sky: unless
    the options fix the camera's distance, the camera is framed so the surface fills the
    panel, at any aspect and over the whole orbit, without reaching them.
    """

    def __init__(self, scene: Scene, options: RenderOptions) -> None:
        if options.view not in VIEWS:
            raise StudioError(f"unknown view {options.view!r}; one of {', '.join(VIEWS)}")
        w, h = options.size
        if w < 16 or h < 16:
            raise StudioError(f"frame size {w}x{h} is too small (at least 16x16)")
        self.options = options
        self.session = Session(scene, threaded=False)
        if self.session.trajectory is None:
            self._raise_simulation_error(scene)
        self.steps = plan_steps(options, self.session.last_frame)
        self.theme: Theme = theme_for(options.dark)
        self.scale = min(h / BASE_HEIGHT, w / (BASE_HEIGHT * 16 / 9))
        self.title = default_title(scene, self.session.surface) if options.title is None \
            else options.title.strip()
        self.title_rect: QRectF | None = None
        self.legend_rect: QRectF | None = None
        self.step_rect: QRectF | None = None
        self._title_text = self.title
        # 2D views get a band above them for the title and (alone in the frame) the step
        # counter, so neither covers data; the 3D view has sky to spare for overlays.
        flat = options.view in ("contour", "loss")
        band = options.view != "3d" and (bool(self.title) or (flat and options.step_counter))
        self._top = round(self._title_font().pixelSize() * 2.0) if band else 0
        self._legend_size = self._measure_legend() if options.legend else None
        self.panels: list[_Panel] = []
        for kind, rect in layout(options.view, options.size, self._top):
            widget = _make_view(kind, self.session)
            widget.set_dark(options.dark)
            if hasattr(widget, "set_trail_length"):  # the loss plot always shows whole curves
                widget.set_trail_length(options.trail)
            widget.setMinimumSize(1, 1)  # the window's minimums do not bind a small export
            panel = _Panel(kind, widget, rect)
            if kind == "3d":
                self._size_gl(panel)
            else:
                self._style_plots(widget)
                self._fit_2d(panel)
            self.panels.append(panel)
        self._view3d = next((p.widget for p in self.panels if p.kind == "3d"), None)
        self._place_overlays()

    # ------------------------------------------------------------------ set-up

    def _size_gl(self, panel: _Panel) -> None:
        """Size the hidden GL widget so its framebuffer is the panel's size in pixels at any
        device pixel ratio (a HiDPI screen gives ratio 2: half as many logical pixels).
        Point sizes and line widths are in framebuffer pixels, so they need no ratio."""
        widget = panel.widget
        dpr = widget.devicePixelRatioF() or 1.0
        rect = panel.rect
        widget.resize(QSize(max(1, math.ceil(rect.width() / dpr - 1e-6)),
                            max(1, math.ceil(rect.height() / dpr - 1e-6))))
        self._scale_markers(widget)

    def _scale_markers(self, view: QWidget) -> None:
        """The 3D balls and trails are sized in pixels for a window; keep them as big on a
        1080p slide as on a 720p one (and legible in a small GIF)."""
        view.set_marker_scale(max(self.scale, 0.75))

    def _style_plots(self, widget: QWidget) -> None:
        """Tick labels and axis titles sized for the export (`axis_font_px`), not the
        window: the plot is drawn at `self.scale` device pixels per logical pixel."""
        px = axis_font_px(self.options.size) / self.scale
        font = QFont()
        font.setPixelSize(max(1, round(px)))
        for pw in _plot_widgets(widget):
            plot = pw.getPlotItem()
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setStyle(tickFont=font, tickTextOffset=max(2, round(px * 0.3)))
                if axis.label.isVisible() and axis.labelText:
                    style = dict(axis.labelStyle)
                    style["font-size"] = f"{round(px * 1.05)}px"
                    axis.setLabel(axis.labelText, units=axis.labelUnits,
                                  unitPrefix=axis.labelUnitPrefix, **style)
            # Room on the right for the last x tick label (pyqtgraph clips it at the edge).
            left, top, right, bottom = plot.layout.getContentsMargins()
            plot.layout.setContentsMargins(left, top, max(right, px * 1.2), bottom)
            if self.scale < 0.5:
                # A cache pixmap of a small item drawn this small is empty (Qt warns).
                for item in pw.scene().items():
                    item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
            # Curves, trails and cursors have cosmetic pens (widths in device pixels): as
            # bold on a 1080p slide as at 720p.
            if self.scale > 1:
                for item in plot.items:
                    if isinstance(item, (pg.PlotDataItem, pg.InfiniteLine)):
                        self._widen(item, self.scale)

    @staticmethod
    def _widen(item: QGraphicsItem, factor: float) -> None:
        """Scale an item's pen width, hairlines (isolines, faint guides) excepted."""
        def wider(spec: object) -> QPen:
            pen = pg.mkPen(spec)
            if pen.widthF() > 1.0:
                pen.setWidthF(pen.widthF() * factor)
            return pen

        if isinstance(item, pg.InfiniteLine):
            item.setPen(wider(item.pen))
            item.setHoverPen(wider(item.hoverPen))
        elif item.opts.get("pen") is not None:
            item.setPen(wider(item.opts["pen"]))

    def _fit_2d(self, panel: _Panel) -> None:
        widget = panel.widget
        widget.resize(self._logical(panel.rect.size()))
        # A hidden widget gets its resize event (and lays out its plot) only when first
        # painted: paint, fit the plot to its final size, and paint again so the axes have
        # measured their tick labels before the first frame (no jump between frames).
        for _ in range(2):
            self._grab(panel, settle=True)
            QCoreApplication.sendPostedEvents()  # the plot's own layout requests
            if hasattr(widget, "reset_view"):
                widget.reset_view()

    def _place_overlays(self) -> None:
        opts, w = self.options, self.options.size[0]
        margin = self._px(14)
        main = QRectF(self.panels[0].rect)
        flat = opts.view in ("contour", "loss")
        band = QRectF(0, 0, w, self._top)
        step_size = self._step_size() if opts.step_counter else None
        if step_size is not None:
            if flat:  # at the right of the title band
                self.step_rect = QRectF(QPointF(0, 0), step_size)
                self.step_rect.moveCenter(QPointF(0, band.center().y()))
                self.step_rect.moveRight(band.right() - margin)
            else:
                self.step_rect = QRectF(QPointF(0, 0), step_size)
                self.step_rect.moveBottomRight(main.bottomRight() - QPointF(margin, margin))
        if self.title:
            self._place_title(band if self._top else main)
        if self._legend_size is not None:
            if flat:
                self.legend_rect = self._place_legend_2d(self.panels[0], self._legend_size)
            else:
                self.legend_rect = self._place_legend_3d(main, self._legend_size)
        if self._view3d is not None:
            self._fit_camera(self.legend_rect)

    def _place_title(self, area: QRectF) -> None:
        font = self._title_font()
        metrics = QFontMetricsF(font)
        pad, margin = self._px(10), self._px(14)
        max_width = area.width() - 2 * margin - 2 * pad
        if self._top and self.step_rect is not None and self.step_rect.top() < self._top:
            max_width = self.step_rect.left() - area.left() - 3 * margin
        elif not self._top and self._legend_size is not None:  # beside the legend
            max_width -= self._legend_size.width() + margin
        text = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, max(0.0, max_width))
        self._title_text = text
        width = metrics.horizontalAdvance(text)
        if self._top:  # a band of its own: centred vertically, no box needed
            self.title_rect = QRectF(area.left() + margin,
                                     area.top() + (area.height() - metrics.height()) / 2,
                                     width, metrics.height())
        else:
            self.title_rect = QRectF(area.left() + margin, area.top() + margin,
                                     width + 2 * pad, metrics.height() + 1.2 * pad)

    def _place_legend_3d(self, main: QRectF, size: QSizeF) -> QRectF:
        """Top right of the 3D panel, or top left where the title is not (composite) and
        the surface then comes closer; the camera fit keeps the surface out of it."""
        margin = self._px(14)
        right = QRectF(QPointF(0, 0), size)
        right.moveTopRight(QPointF(main.right() - margin, main.top() + margin))
        if self.title_rect is not None and main.contains(self.title_rect.topLeft()):
            return right
        left = QRectF(QPointF(0, 0), size)
        left.moveTopLeft(QPointF(main.left() + margin, main.top() + margin))
        near = self._fit_camera(left, apply=False)
        far = self._fit_camera(right, apply=False)
        return left if near <= far * 1.01 else right

    def _fit_camera(self, legend: QRectF | None, apply: bool = True) -> float:
        """Frame the surface in the 3D panel: the camera distance at which it fills the
        panel (over the whole orbit) without reaching the title, legend or step counter,
        and the point it looks at moved so the surface sits in the middle of that room
        (up and down only under an orbit: the camera turns about a vertical axis)."""
        view = self._view3d
        assert view is not None
        panel = next(p for p in self.panels if p.kind == "3d")
        az, el, dist = view.camera()
        if self.options.camera is not None:
            az, el, given = self.options.camera
            if given is not None:
                if apply:
                    self._camera = (az, el, float(given))
                return float(given)
        r = QRectF(panel.rect)
        origin = r.topLeft()
        grow = self._px(8)
        keep_out = [box.translated(-origin).adjusted(-grow, -grow, grow, grow)
                    for box in (legend, self.step_rect) if box is not None
                    and r.intersects(box)]
        side, edge = 0.03 * r.width(), 0.04 * r.height()
        top = edge
        if self.title_rect is not None and r.contains(self.title_rect.topLeft()):
            top = max(top, self.title_rect.bottom() - origin.y() + grow)
        bounds = QRectF(0, 0, r.width(), r.height()).adjusted(side, top, -side, -edge)
        size, fov = (r.width(), r.height()), float(view.opts["fov"])
        start = QVector3D(view.opts["center"])
        fitted = dist * 1.15
        try:
            for attempt in range(5):
                points = self._eye_points(view, az, el)
                if points is None:
                    break
                fitted = fit_distance(points, size, fov, keep_out, bounds,
                                      0.4 * dist, 4.0 * dist)
                xy = [project(eye, fitted, size, fov) for eye in points]
                x0, x1 = min(x.min() for x, _ in xy), max(x.max() for x, _ in xy)
                y0, y1 = min(y.min() for _, y in xy), max(y.max() for _, y in xy)
                dx = bounds.center().x() - (x0 + x1) / 2
                dy = bounds.center().y() - (y0 + y1) / 2
                if attempt == 4 or max(abs(dx), abs(dy)) < 1.0:
                    break
                self._shift_centre(view, az, el, fitted, dx, dy, size[0])
        finally:
            if apply:
                self._camera = (az, el, fitted)
                view.set_camera(az, el, fitted)
            else:
                view.opts["center"] = start
        return fitted

    def _shift_centre(self, view: QWidget, az: float, el: float, distance: float,
                      dx: float, dy: float, width: float) -> None:
        """Move the camera's centre so the picture moves dx, dy panel pixels."""
        view.set_camera(az, el, distance)
        m = np.array(view.viewMatrix().data(), float).reshape(4, 4).T[:3, :3]
        per_px = 2 * distance * math.tan(math.radians(float(view.opts["fov"])) / 2) / width
        c = view.opts["center"]
        centre = np.array([c.x(), c.y(), c.z()], float)
        if self.options.orbit == 0:
            centre += -m[0] * dx * per_px + m[1] * dy * per_px
        elif abs(m[1, 2]) > 0.2:  # world z shows as screen y (not from straight above)
            centre[2] += dy * per_px / m[1, 2]
        view.opts["center"] = QVector3D(*centre)

    def _eye_points(self, view: QWidget, az: float, el: float) -> list[np.ndarray] | None:
        """The surface's vertices in eye coordinates at distance 0, for each azimuth the
        clip shows (sampled every 10° of the orbit)."""
        item = getattr(view, "surface_item", None)
        meshdata = getattr(item, "opts", {}).get("meshdata") if item is not None else None
        vertices = meshdata.vertexes() if meshdata is not None else None
        if vertices is None or len(vertices) == 0:
            return None
        pts = np.asarray(vertices, float)
        pts = pts[np.isfinite(pts).all(1)]
        if len(pts) == 0:
            return None
        orbit = self.options.orbit
        n = 1 if orbit == 0 else min(37, max(2, math.ceil(abs(orbit) / 10) + 1))
        saved = view.camera()
        out = []
        try:
            for a in np.linspace(az, az + orbit, n):
                view.set_camera(float(a), el, 1.0)
                m = np.array(view.viewMatrix().data(), float).reshape(4, 4).T
                eye = pts @ m[:3, :3].T + m[:3, 3]
                eye[:, 2] += 1.0  # as seen from distance 0: depth = distance - z
                out.append(eye)
        finally:
            view.set_camera(*saved)
        return out

    def _place_legend_2d(self, panel: _Panel, size: QSizeF) -> QRectF:
        """Inside a plot, in the corner where no data is drawn over the clip; failing
        that, in a column beside the plots (which then narrow to make room)."""
        margin = self._px(14)
        busy = self._busy_mask(panel)
        best: tuple[float, QRectF] | None = None
        for vb in self.viewbox_rects(panel):
            inner = vb.adjusted(margin, margin, -margin, -margin)
            if inner.width() < size.width() or inner.height() < size.height():
                continue
            for corner in ("topRight", "topLeft", "bottomRight", "bottomLeft"):
                box = QRectF(QPointF(0, 0), size)
                getattr(box, "move" + corner[0].upper() + corner[1:])(
                    getattr(inner, corner)())
                clear = box.adjusted(-margin / 2, -margin / 2, margin / 2, margin / 2)
                score = _fraction(busy, clear.translated(-QPointF(panel.rect.topLeft())))
                if best is None or score < best[0] - 1e-4:
                    best = (score, box)
        if best is not None and best[0] <= 0.002:
            return best[1]
        column = math.ceil(size.width() + 2 * margin)
        if column > panel.rect.width() / 2:  # a thumbnail: no room for a column
            if best is not None:
                return best[1]
            box = QRectF(QPointF(0, 0), size)
            box.moveTopRight(QPointF(panel.rect.right() - margin, panel.rect.top() + margin))
            return box
        # No empty corner: a column at the right of the frame, the plots narrower.
        rect = QRect(panel.rect)
        rect.setRight(rect.right() - column)
        panel.rect = rect
        self._fit_2d(panel)
        box = QRectF(QPointF(0, 0), size)
        box.moveTopLeft(QPointF(rect.right() + 1 + margin, rect.top() + margin))
        return box

    def _busy_mask(self, panel: _Panel) -> np.ndarray:
        """Pixels of the panel (panel coordinates) that show data in some frame of the clip:
        far from the background colour (faint grid lines do not count; frame cursors are
        hidden, they cross every corner in turn)."""
        cursors = [c for pw in _plot_widgets(panel.widget)
                   if isinstance(c := getattr(pw, "cursor", None), QGraphicsItem)
                   and c.isVisible()]
        for c in cursors:
            c.setVisible(False)
        background = np.array(QColor(self.theme.background).getRgb()[:3])
        n = self.n_frames
        picks = sorted({0, n // 3, (2 * n) // 3, n - 1})
        busy = np.zeros((panel.rect.height(), panel.rect.width()), bool)
        try:
            for i in picks:
                self.session.set_frame(int(self.steps[i]))
                rgb = qimage_to_rgb(self._grab(panel)).astype(int)
                busy |= np.abs(rgb - background).max(-1) > 48
        finally:
            for c in cursors:
                c.setVisible(True)
        return busy

    def viewbox_rects(self, panel: _Panel) -> list[QRectF]:
        """Each plot's data area (its ViewBox) in frame pixels."""
        return [self._to_frame(panel, pw, pw.getPlotItem().getViewBox().sceneBoundingRect())
                for pw in _plot_widgets(panel.widget)]

    def plot_rects(self, panel: _Panel) -> list[QRectF]:
        """Each plot with its axes (the PlotItem) in frame pixels."""
        return [self._to_frame(panel, pw, pw.getPlotItem().sceneBoundingRect())
                for pw in _plot_widgets(panel.widget)]

    def _to_frame(self, panel: _Panel, pw: QWidget, scene_rect: QRectF) -> QRectF:
        r = pw.viewportTransform().mapRect(scene_rect)
        offset = pw.viewport().mapTo(panel.widget, QPoint(0, 0))
        sx = panel.rect.width() / max(panel.widget.width(), 1)
        sy = panel.rect.height() / max(panel.widget.height(), 1)
        return QRectF(panel.rect.left() + (r.left() + offset.x()) * sx,
                      panel.rect.top() + (r.top() + offset.y()) * sy,
                      r.width() * sx, r.height() * sy)

    # ------------------------------------------------------------------ frames

    @property
    def n_frames(self) -> int:
        return int(self.steps.size)

    def close(self) -> None:
        for panel in self.panels:
            panel.widget.deleteLater()
        self.panels.clear()
        self.session.pause()
        self.session.deleteLater()

    def render(self, index: int) -> np.ndarray:
        """Frame `index` of the clip as a uint8 (h, w, 3) RGB array."""
        step = int(self.steps[index])
        self.session.set_frame(step)
        if self._view3d is not None:
            az, el, dist = self._camera
            turn = orbit_turn(self.options.orbit, index, self.n_frames)
            self._view3d.set_camera(az + turn, el, dist)
        image = self._compose(step)
        return qimage_to_rgb(image)

    def frames(self) -> Iterator[np.ndarray]:
        for i in range(self.n_frames):
            yield self.render(i)

    # ------------------------------------------------------------------ composition

    def _logical(self, size: QSize) -> QSize:
        return QSize(max(1, round(size.width() / self.scale)),
                     max(1, round(size.height() / self.scale)))

    def _grab(self, panel: _Panel, settle: bool = False) -> QImage:
        size = panel.rect.size()
        if panel.kind == "3d":
            image = panel.widget.grabFramebuffer()
            # Device pixels, whatever the screen's ratio: overlays are painted in them.
            image.setDevicePixelRatio(1.0)
            if image.size() != size:  # never an off-size frame for the encoder
                if image.width() >= size.width() and image.height() >= size.height():
                    image = image.copy(QRect(QPoint(0, 0), size))  # a rounding pixel
                else:
                    image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)
            return image
        image = QImage(size, QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(size.height() / self._logical(size).height())
        image.fill(QColor(self.theme.background))
        painter = QPainter(image)
        if settle:
            # Children only: the window background would be the app palette's, not the
            # theme's (the image is already filled with the theme's background).
            # (QWidget.render by name: QGraphicsView overrides it with a scene renderer.)
            QWidget.render(panel.widget, painter, QPoint(), QRegion(),
                           QWidget.RenderFlag.DrawChildren)
        else:
            # Each plot's scene straight into the image: through the widget, items cached
            # in device coordinates (curves, isolines) come out at the screen's pixel
            # ratio, thinner on a HiDPI screen and coarser in a 1080p export.
            for pw in _plot_widgets(panel.widget):
                at = pw.mapTo(panel.widget, QPoint(0, 0))
                viewport = pw.viewport().rect()
                painter.setRenderHints(pw.renderHints())
                pw.scene().render(painter, QRectF(at.x(), at.y(), viewport.width(),
                                                  viewport.height()),
                                  pw.mapToScene(viewport).boundingRect(),
                                  Qt.AspectRatioMode.IgnoreAspectRatio)
        painter.end()
        image.setDevicePixelRatio(1.0)
        return image

    def _compose(self, step: int) -> QImage:
        w, h = self.options.size
        if len(self.panels) == 1 and self.panels[0].kind == "3d":
            # One 3D view fills the frame: paint the overlays straight onto the grab.
            canvas = self._grab(self.panels[0])
            if canvas.format() != QImage.Format.Format_RGB32:
                canvas = canvas.convertToFormat(QImage.Format.Format_RGB32)
        else:
            canvas = QImage(w, h, QImage.Format.Format_RGB32)
            canvas.fill(QColor(self.theme.background))
        painter = QPainter(canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if len(self.panels) > 1 or self.panels[0].kind != "3d":
            for panel in self.panels:
                painter.drawImage(panel.rect.topLeft(), self._grab(panel))
            self._draw_dividers(painter)
        if self.title_rect is not None:
            self._draw_title(painter, self.title_rect)
        if self.legend_rect is not None:
            self._draw_legend(painter, self.legend_rect, step)
        if self.step_rect is not None:
            self._draw_step(painter, self.step_rect, step)
        painter.end()
        return canvas

    def _px(self, value: float) -> float:
        return value * self.scale

    def _font(self, px: float, weight: QFont.Weight = QFont.Weight.Normal) -> QFont:
        font = QFont()
        font.setPixelSize(max(6, round(self._px(px))))
        font.setWeight(weight)
        font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
        return font

    def _title_font(self) -> QFont:
        return self._font(24, QFont.Weight.DemiBold)

    def _legend_fonts(self) -> tuple[QFont, QFont]:
        return self._font(19), self._font(15)

    def _step_font(self) -> QFont:
        font = self._font(19)
        font.setFeature(QFont.Tag("tnum"), 1)  # tabular digits: the counter does not jiggle
        return font

    def _panel_brush(self) -> QColor:
        return css_color(self.theme.panel)

    def _draw_dividers(self, painter: QPainter) -> None:
        line = QColor(self.theme.foreground)
        line.setAlpha(60)
        painter.setPen(line)
        for panel in self.panels[1:]:
            r = panel.rect
            painter.drawLine(r.left(), r.top(), r.left(), r.bottom())
            if r.top() > self._top:
                painter.drawLine(r.left(), r.top(), r.right(), r.top())

    def _box(self, painter: QPainter, rect: QRectF) -> None:
        path = QPainterPath()
        radius = self._px(7)
        path.addRoundedRect(rect, radius, radius)
        painter.fillPath(path, self._panel_brush())

    def _draw_title(self, painter: QPainter, rect: QRectF) -> None:
        font = self._title_font()
        metrics = QFontMetricsF(font)
        if self._top:  # in the band: no box needed
            x, y = rect.left(), rect.top() + metrics.ascent()
        else:
            pad = self._px(10)
            self._box(painter, rect)
            x, y = rect.left() + pad, rect.top() + 0.6 * pad + metrics.ascent()
        painter.setFont(font)
        painter.setPen(QColor(self.theme.foreground))
        painter.drawText(QPointF(x, y), self._title_text)

    def _legend_rows(self, step: int) -> list[tuple[str, str, str]]:
        """(colour, label, outcome so far) per enabled run."""
        trajectory = self.session.trajectory
        status = status_at(trajectory, step)
        ball_run = np.asarray(trajectory.ball_run)
        stop = np.asarray(trajectory.stop_step)
        rows = []
        for i, run in enumerate(self.session.scene.runs):
            if not run.enabled:
                continue
            mine = ball_run == i
            rows.append((run.color, run_label(run), run_outcome(status[mine], stop[mine])
                         if mine.any() else ""))
        return rows

    def _legend_metrics(self) -> tuple[float, float, float, float]:
        """pad, dot radius, gap, line height."""
        fm = QFontMetricsF(self._legend_fonts()[0])
        dot = self._px(8)
        return self._px(10), dot, self._px(10), max(fm.height(), 2 * dot) + self._px(4)

    def _measure_legend(self) -> QSizeF | None:
        """The legend box for the whole clip: as wide as its widest row at any frame, so
        the box never changes size or place while outcomes appear."""
        font, note_font = self._legend_fonts()
        fm, nm = QFontMetricsF(font), QFontMetricsF(note_font)
        pad, dot, gap, line = self._legend_metrics()
        n = self.n_frames
        widest, count = 0.0, 0
        for i in sorted(set(np.linspace(0, n - 1, min(n, 24)).round().astype(int).tolist())):
            rows = self._legend_rows(int(self.steps[i]))
            count = len(rows)
            for _c, label, note in rows:
                widest = max(widest, 2 * dot + gap + fm.horizontalAdvance(label)
                             + (gap + nm.horizontalAdvance(f"— {note}") if note else 0))
        if not count:
            return None
        return QSizeF(widest + 2 * pad, line * count + 2 * pad - self._px(4))

    def _draw_legend(self, painter: QPainter, box: QRectF, step: int) -> None:
        rows = self._legend_rows(step)
        font, note_font = self._legend_fonts()
        fm, nm = QFontMetricsF(font), QFontMetricsF(note_font)
        pad, dot, gap, line = self._legend_metrics()
        self._box(painter, box)
        outline = QColor(self.theme.outline)
        for k, (colour, label, note) in enumerate(rows):
            cy = box.top() + pad + k * line + (line - self._px(4)) / 2
            x = box.left() + pad
            painter.setPen(outline)
            painter.setBrush(QColor(colour))
            painter.drawEllipse(QPointF(x + dot, cy), dot, dot)
            painter.setPen(QColor(self.theme.foreground))
            painter.setFont(font)
            tx = x + 2 * dot + gap
            painter.drawText(QPointF(tx, cy + (fm.ascent() - fm.descent()) / 2), label)
            if note:
                diverged = "diverged" in note
                painter.setPen(QColor(self.theme.diverged if diverged else
                                      self.theme.foreground))
                painter.setFont(note_font)
                painter.drawText(QPointF(tx + fm.horizontalAdvance(label) + gap,
                                         cy + (nm.ascent() - nm.descent()) / 2), f"— {note}")

    def _step_size(self) -> QSizeF:
        fm = QFontMetricsF(self._step_font())
        last = self.session.last_frame
        pad = self._px(9)
        return QSizeF(fm.horizontalAdvance(f"step {last} / {last}") + 2 * pad,
                      fm.height() + 1.2 * pad)

    def _draw_step(self, painter: QPainter, box: QRectF, step: int) -> None:
        font = self._step_font()
        fm = QFontMetricsF(font)
        pad = self._px(9)
        text = f"step {step} / {self.session.last_frame}"
        if self.options.view not in ("contour", "loss"):
            self._box(painter, box)  # over a 3D view; in the band it needs none
        painter.setFont(font)
        painter.setPen(QColor(self.theme.foreground))
        painter.drawText(QPointF(box.right() - pad - fm.horizontalAdvance(text),
                                 box.top() + 0.6 * pad + fm.ascent()), text)

    @staticmethod
    def _raise_simulation_error(scene: Scene) -> None:
        from studio.engine import simulate
        from studio.surface import surface_from_spec

        simulate(surface_from_spec(scene.surface), list(scene.runs), scene.steps, scene.seed)
        raise StudioError("the scene could not be simulated")


def _plot_widgets(widget: QWidget) -> list[pg.PlotWidget]:
    """The pyqtgraph plots a 2D view is made of (the view itself, or its children)."""
    if isinstance(widget, pg.PlotWidget):
        return [widget]
    return [pw for pw in widget.findChildren(pg.PlotWidget) if not pw.isHidden()]


def _fraction(mask: np.ndarray, rect: QRectF) -> float:
    """Share of `mask` that is set inside `rect` (clipped to the mask)."""
    h, w = mask.shape
    x0, y0 = max(0, math.floor(rect.left())), max(0, math.floor(rect.top()))
    x1, y1 = min(w, math.ceil(rect.right())), min(h, math.ceil(rect.bottom()))
    if x1 <= x0 or y1 <= y0:
        return 1.0
    return float(mask[y0:y1, x0:x1].mean())


def css_color(text: str) -> QColor:
    """`#rrggbbaa` as CSS and pyqtgraph read it (QColor would read `#aarrggbb`)."""
    if len(text) == 9 and text.startswith("#"):
        r, g, b, a = (int(text[i:i + 2], 16) for i in (1, 3, 5, 7))
        return QColor(r, g, b, a)
    return QColor(text)


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as a uint8 (h, w, 3) array that owns its memory (the QImage may go away)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = rgb.width(), rgb.height()
    ptr = rgb.constBits()
    ptr.setsize(rgb.sizeInBytes())
    rows = np.frombuffer(ptr, np.uint8).reshape(h, rgb.bytesPerLine())
    return rows[:, : w * 3].reshape(h, w, 3).copy()


# ------------------------------------------------------------------------------ API


def render_frames(scene: Scene, options: RenderOptions) -> Iterator[np.ndarray]:
    """Each frame of the clip in turn; one frame in memory at a time."""
    renderer = OffscreenRenderer(scene, options)
    try:
        yield from renderer.frames()
    finally:
        renderer.close()


ProgressCallback = Callable[[int, int], None]


def export(scene: Scene, path: str | Path, options: RenderOptions,
           progress_cb: ProgressCallback | None = None,
           cancel_flag: threading.Event | None = None) -> Path:
    """Render and encode to `path` (format from its suffix); the file appears only when
    complete. Raises ExportCancelled when `cancel_flag` is set, ExportError on failure."""
    path = Path(path)
    fmt = format_of(path)
    if fmt == "png" and not options.still:
        options = replace(options, still=True)
    renderer = OffscreenRenderer(scene, options)
    try:
        writer = open_writer(path, options.fps, options.size, fmt)
        try:
            total = renderer.n_frames
            for i in range(total):
                if cancel_flag is not None and cancel_flag.is_set():
                    raise ExportCancelled("export cancelled")
                writer.write(renderer.render(i))
                if progress_cb is not None:
                    progress_cb(i + 1, total)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    finally:
        renderer.close()
    return path


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """Round each side down to even (what MP4's yuv420p needs), at least 16."""
    return (max(16, size[0] - size[0] % 2), max(16, size[1] - size[1] % 2))


def seconds(options: RenderOptions, n_frames: int) -> float:
    return n_frames / options.fps if options.fps > 0 else math.inf
