"""The views an export shows, as hidden widgets placed in the frame (`Panel`).

Making and laying out the panels, sizing each for the export (the GL framebuffer in device
pixels; the 2D plots' fonts and pens at the export's UI scale), grabbing each as an image,
and the geometry the overlays are placed by (plot areas in frame pixels, the pixels that
show data over the clip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QCoreApplication, QPoint, QRect, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPen, QRegion
from PyQt6.QtWidgets import QGraphicsItem, QWidget

from studio.export.views import export_view
from studio.gui.session import Session
from studio.gui.views.registry import VIEWS, OffscreenCamera, Refits

BASE_HEIGHT = 720.0  # overlay sizes are designed at 720p and scaled with the frame


@dataclass
class Panel:
    """One view placed in the frame: its widget, where it goes, how it is grabbed."""

    kind: str  # a name in the views registry
    widget: QWidget
    rect: QRect

    @property
    def dims(self) -> int:
        return VIEWS[self.kind].dims

    @property
    def camera_view(self) -> OffscreenCamera:
        """The widget as the 3-D view it is (only for a panel whose `dims` is 3)."""
        assert isinstance(self.widget, OffscreenCamera)
        return self.widget


def ui_scale(size: tuple[int, int]) -> float:
    """Frame pixels per 720p design pixel: the height's ratio, or the width's where the
    frame is narrower than 16:9."""
    w, h = size
    return min(h / BASE_HEIGHT, w / (BASE_HEIGHT * 16 / 9))


def axis_font_px(size: tuple[int, int]) -> float:
    """Pixel size of the 2D plots' tick labels in a frame of `size`: legible in a small
    GIF (15 px at 800×450), growing more slowly than the frame (31 px at 4K, not 48)."""
    return max(15.0, 16.0 * ui_scale(size) ** 0.6)


def make_view(kind: str, session: Session) -> QWidget:
    """The hidden widget that draws view `kind` in an export (the views registry's)."""
    return VIEWS[kind].offscreen(session)


def layout(view: str, size: tuple[int, int], top: int) -> list[tuple[str, QRect]]:
    """Rectangles for each panel of export view `view`, below a band of `top` pixels: one
    view fills the frame; with more, the first takes the left 60 % and the others share
    the right side, stacked (the 2D views keep a useful aspect in a 16:9 frame)."""
    w, h = size
    body = QRect(0, top, w, h - top)
    first, *rest = export_view(view).panels
    if not rest:
        return [(first, body)]
    left = (w * 3 // 5) & ~1
    rects = [(first, QRect(0, top, left, body.height()))]
    edges = [body.height() * i // len(rest) for i in range(len(rest) + 1)]
    for kind, y0, y1 in zip(rest, edges, edges[1:], strict=False):
        rects.append((kind, QRect(left, top + y0, w - left, y1 - y0)))
    return rects


# ------------------------------------------------------------------------------ set-up


def size_gl(panel: Panel, scale: float) -> None:
    """Size the hidden GL widget so its framebuffer is the panel's size in pixels at any
    device pixel ratio (a HiDPI screen gives ratio 2: half as many logical pixels).
    Point sizes and line widths are in framebuffer pixels, so they need no ratio."""
    widget, view = panel.widget, panel.camera_view
    view.hold_camera()  # the export fits the camera itself; a resize must not reframe
    dpr = widget.devicePixelRatioF() or 1.0
    rect = panel.rect
    widget.resize(
        QSize(
            max(1, math.ceil(rect.width() / dpr - 1e-6)),
            max(1, math.ceil(rect.height() / dpr - 1e-6)),
        )
    )
    # The 3D balls and trails are sized in pixels for a window; keep them as big on a
    # 1080p slide as on a 720p one (and legible in a small GIF).
    view.set_marker_scale(max(scale, 0.75))


def style_plots(widget: QWidget, size: tuple[int, int], scale: float) -> None:
    """Tick labels and axis titles sized for the export (`axis_font_px`), not the
    window: the plot is drawn at `scale` device pixels per logical pixel."""
    px = axis_font_px(size) / scale
    font = QFont()
    font.setPixelSize(max(1, round(px)))
    for pw in plot_widgets(widget):
        plot = pw.getPlotItem()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setStyle(tickFont=font, tickTextOffset=max(2, round(px * 0.3)))
            if axis.label.isVisible() and axis.labelText:
                style = dict(axis.labelStyle)
                style["font-size"] = f"{round(px * 1.05)}px"
                axis.setLabel(
                    axis.labelText, units=axis.labelUnits, unitPrefix=axis.labelUnitPrefix, **style
                )
        # Room on the right for the last x tick label (pyqtgraph clips it at the edge).
        left, top, right, bottom = plot.layout.getContentsMargins()
        plot.layout.setContentsMargins(left, top, max(right, px * 1.2), bottom)
        if scale < 0.5:
            # A cache pixmap of a small item drawn this small is empty (Qt warns).
            for item in pw.scene().items():
                item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        # Curves, trails and cursors have cosmetic pens (widths in device pixels): as
        # bold on a 1080p slide as at 720p.
        if scale > 1:
            for item in plot.items:
                if isinstance(item, (pg.PlotDataItem, pg.InfiniteLine)):
                    _widen(item, scale)


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


def fit_2d(panel: Panel, scale: float, background: str) -> None:
    widget = panel.widget
    widget.resize(_logical(panel.rect.size(), scale))
    # A hidden widget gets its resize event (and lays out its plot) only when first
    # painted: paint, fit the plot to its final size, and paint again so the axes have
    # measured their tick labels before the first frame (no jump between frames).
    for _ in range(2):
        grab(panel, scale, background, settle=True)
        QCoreApplication.sendPostedEvents()  # the plot's own layout requests
        if isinstance(widget, Refits):
            widget.reset_view()


# ------------------------------------------------------------------------------ grabbing


def _logical(size: QSize, scale: float) -> QSize:
    return QSize(max(1, round(size.width() / scale)), max(1, round(size.height() / scale)))


def grab(panel: Panel, scale: float, background: str, settle: bool = False) -> QImage:
    """The panel as an image of its rect's size in frame pixels. `settle`: paint the
    widget itself (a hidden 2D view lays itself out only when painted)."""
    size = panel.rect.size()
    if panel.dims == 3:
        image = panel.camera_view.grabFramebuffer()
        # Device pixels, whatever the screen's ratio: overlays are painted in them.
        image.setDevicePixelRatio(1.0)
        if image.size() != size:  # never an off-size frame for the encoder
            if image.width() >= size.width() and image.height() >= size.height():
                image = image.copy(QRect(QPoint(0, 0), size))  # a rounding pixel
            else:
                image = image.scaled(
                    size,
                    Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
        return image
    image = QImage(size, QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(size.height() / _logical(size, scale).height())
    image.fill(QColor(background))
    painter = QPainter(image)
    if settle:
        # Children only: the window background would be the app palette's, not the
        # theme's (the image is already filled with the theme's background).
        # (QWidget.render by name: QGraphicsView overrides it with a scene renderer.)
        QWidget.render(panel.widget, painter, QPoint(), QRegion(), QWidget.RenderFlag.DrawChildren)
    else:
        # Each plot's scene straight into the image: through the widget, items cached
        # in device coordinates (curves, isolines) come out at the screen's pixel
        # ratio, thinner on a HiDPI screen and coarser in a 1080p export.
        for pw in plot_widgets(panel.widget):
            at = pw.mapTo(panel.widget, QPoint(0, 0))
            viewport = pw.viewport().rect()
            painter.setRenderHints(pw.renderHints())
            pw.scene().render(
                painter,
                QRectF(at.x(), at.y(), viewport.width(), viewport.height()),
                pw.mapToScene(viewport).boundingRect(),
                Qt.AspectRatioMode.IgnoreAspectRatio,
            )
    painter.end()
    image.setDevicePixelRatio(1.0)
    return image


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as a uint8 (h, w, 3) array that owns its memory (the QImage may go away)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = rgb.width(), rgb.height()
    ptr = rgb.constBits()
    ptr.setsize(rgb.sizeInBytes())
    rows = np.frombuffer(ptr, np.uint8).reshape(h, rgb.bytesPerLine())
    return rows[:, : w * 3].reshape(h, w, 3).copy()


# ------------------------------------------------------------------------------ geometry


def plot_widgets(widget: QWidget) -> list[pg.PlotWidget]:
    """The pyqtgraph plots a 2D view is made of (the view itself, or its children)."""
    if isinstance(widget, pg.PlotWidget):
        return [widget]
    return [pw for pw in widget.findChildren(pg.PlotWidget) if not pw.isHidden()]


def viewbox_rects(panel: Panel) -> list[QRectF]:
    """Each plot's data area (its ViewBox) in frame pixels."""
    return [
        _to_frame(panel, pw, pw.getPlotItem().getViewBox().sceneBoundingRect())
        for pw in plot_widgets(panel.widget)
    ]


def _to_frame(panel: Panel, pw: QWidget, scene_rect: QRectF) -> QRectF:
    r = pw.viewportTransform().mapRect(scene_rect)
    offset = pw.viewport().mapTo(panel.widget, QPoint(0, 0))
    sx = panel.rect.width() / max(panel.widget.width(), 1)
    sy = panel.rect.height() / max(panel.widget.height(), 1)
    return QRectF(
        panel.rect.left() + (r.left() + offset.x()) * sx,
        panel.rect.top() + (r.top() + offset.y()) * sy,
        r.width() * sx,
        r.height() * sy,
    )


def busy_mask(
    panel: Panel, session: Session, steps: np.ndarray, scale: float, background: str
) -> np.ndarray:
    """Pixels of the panel (panel coordinates) that show data in some frame of the clip
    (`steps`: the step of each frame): far from the background colour (faint grid lines
    do not count; frame cursors are hidden, they cross every corner in turn)."""
    cursors = [
        c
        for pw in plot_widgets(panel.widget)
        if isinstance(c := getattr(pw, "cursor", None), QGraphicsItem) and c.isVisible()
    ]
    for c in cursors:
        c.setVisible(False)
    rgb_background = QColor(background).getRgb()[:3]
    n = int(steps.size)
    picks = sorted({0, n // 3, (2 * n) // 3, n - 1})
    busy = np.zeros((panel.rect.height(), panel.rect.width()), bool)
    try:
        for i in picks:
            session.set_frame(int(steps[i]))
            rgb = qimage_to_rgb(grab(panel, scale, background))
            # One channel at a time in int16: the whole frame as int64 took 8 bytes per
            # channel and pixel (over 600 MB at 4096x2304).
            for c, level in enumerate(rgb_background):
                busy |= np.abs(rgb[..., c].astype(np.int16) - level) > 48
    finally:
        for c in cursors:
            c.setVisible(True)
    return busy
