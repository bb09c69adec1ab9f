"""Render a scene's frames at any size, for File → Export animation and `studio render`.

The renderer builds its own `Session(scene, threaded=False)` and the same view classes the
window shows (so colours, markers and trails match the GUI), as hidden widgets resized to
the export size. Per frame it moves the session to a step and grabs each view:

- 3D: `grabFramebuffer()` of the hidden GLViewWidget (about 4× faster than
  `renderToArray()`, which tiles through 1024² buffers).
- 2D (contour, loss): `QWidget.render()` into a QImage whose device pixel ratio is the
  export's UI scale, so axes text is as crisp and as large at 1080p as at 720p.

Title, legend and step counter are drawn with QPainter at the export resolution (the
views' own QLabel overlays are child widgets and never reach a framebuffer grab).
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
from PyQt6.QtCore import QCoreApplication, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QRegion
from PyQt6.QtWidgets import QWidget

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


def fit_distance(size: QSize) -> float:
    """How much farther the default camera must stand than in the window: more for a
    panel narrower than 16:9 (pyqtgraph's field of view is horizontal, so a narrow panel
    crops the sides), and at least 15 % in a wide frame, whose title and legend are drawn
    over its top corners (tall peaks reached under them)."""
    aspect = size.width() / max(size.height(), 1)
    return max(1.15, max(1.0, (16 / 9) / aspect) ** 0.5)


class OffscreenRenderer:
    """Frames of one scene with one set of options; `render(i)` → uint8 (h, w, 3) RGB."""

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
        # 2D views get a band above them for the title, so it never covers data; the 3D
        # view has sky to spare and takes the title as an overlay.
        band = options.view != "3d" and bool(self.title)
        self._top = round(self._title_font().pixelSize() * 2.0) if band else 0
        self.panels: list[_Panel] = []
        for kind, rect in layout(options.view, options.size, self._top):
            widget = _make_view(kind, self.session)
            widget.set_dark(options.dark)
            if hasattr(widget, "set_trail_length"):  # the loss plot always shows whole curves
                widget.set_trail_length(options.trail)
            widget.setMinimumSize(1, 1)  # the window's minimums do not bind a small export
            panel = _Panel(kind, widget, rect)
            if kind == "3d":
                widget.resize(rect.size())
                self._scale_markers(widget)
            else:
                widget.resize(self._logical(rect.size()))
                # A hidden widget gets its resize event (and lays out its plot) only when
                # first painted: paint once, then fit the plot to its final size.
                self._grab(panel)
                QCoreApplication.sendPostedEvents()  # the plot's own layout requests
                if hasattr(widget, "reset_view"):
                    widget.reset_view()
            self.panels.append(panel)
        self._view3d = next((p.widget for p in self.panels if p.kind == "3d"), None)
        if self._view3d is not None:
            az, el, dist = options.camera or self._view3d.camera()
            if options.camera is None:
                dist *= fit_distance(self.panels[0].rect.size())
            self._camera = (az, el, dist)

    def _scale_markers(self, view: QWidget) -> None:
        """The 3D balls are sized in pixels for a window; keep them as big on a 1080p
        slide as on a 720p one (and legible in a small GIF)."""
        from studio.gui.views import view3d

        factor = max(self.scale, 0.75)
        for item, px in ((getattr(view, "ball_item", None), getattr(view3d, "BALL_PX", 0)),
                         (getattr(view, "rim_item", None), getattr(view3d, "RIM_PX", 0))):
            if item is not None and px:
                item.setData(size=px * factor)

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
            turn = self.options.orbit * index / max(self.n_frames, 1)
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

    def _grab(self, panel: _Panel) -> QImage:
        if panel.kind == "3d":
            image = panel.widget.grabFramebuffer()
            if image.size() != panel.rect.size():  # never an off-size frame for the encoder
                image = image.scaled(panel.rect.size(),
                                     Qt.AspectRatioMode.IgnoreAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
            return image
        size = panel.rect.size()
        image = QImage(size, QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(size.height() / self._logical(size).height())
        image.fill(QColor(self.theme.background))
        painter = QPainter(image)
        # Children only: the window background would be the app palette's, not the theme's
        # (the image is already filled with the theme's background).
        # (QWidget.render by name: QGraphicsView overrides it with a scene renderer.)
        QWidget.render(panel.widget, painter, QPoint(), QRegion(),
                       QWidget.RenderFlag.DrawChildren)
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
        if canvas.size() != QSize(w, h) or len(self.panels) > 1 or self.panels[0].kind != "3d":
            for panel in self.panels:
                painter.drawImage(panel.rect.topLeft(), self._grab(panel))
            self._draw_dividers(painter)
        main = self.panels[0].rect
        if self.title:
            self._draw_title(painter, QRect(0, 0, w, self._top) if self._top else main)
        if self.options.legend:
            self._draw_legend(painter, main, step)
        if self.options.step_counter:
            self._draw_step(painter, main, step)
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

    def _draw_title(self, painter: QPainter, area: QRect) -> None:
        font = self._title_font()
        metrics = QFontMetricsF(font)
        pad, margin = self._px(10), self._px(14)
        max_width = area.width() - 2 * margin - 2 * pad
        text = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, max_width)
        width = metrics.horizontalAdvance(text)
        if self._top:  # a band of its own: centred vertically, no box needed
            x = area.left() + margin
            y = area.top() + (area.height() - metrics.height()) / 2 + metrics.ascent()
        else:
            box = QRectF(area.left() + margin, area.top() + margin, width + 2 * pad,
                         metrics.height() + 1.2 * pad)
            self._box(painter, box)
            x, y = box.left() + pad, box.top() + 0.6 * pad + metrics.ascent()
        painter.setFont(font)
        painter.setPen(QColor(self.theme.foreground))
        painter.drawText(QPointF(x, y), text)

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

    def _draw_legend(self, painter: QPainter, area: QRect, step: int) -> None:
        rows = self._legend_rows(step)
        if not rows:
            return
        font, note_font = self._font(19), self._font(15)
        fm, nm = QFontMetricsF(font), QFontMetricsF(note_font)
        pad, margin, dot = self._px(10), self._px(14), self._px(8)
        gap = self._px(10)
        line = max(fm.height(), 2 * dot) + self._px(4)
        widths = [2 * dot + gap + fm.horizontalAdvance(label)
                  + (gap + nm.horizontalAdvance(f"— {note}") if note else 0)
                  for _c, label, note in rows]
        box = QRectF(0, 0, max(widths) + 2 * pad, line * len(rows) + 2 * pad - self._px(4))
        box.moveTopRight(QPointF(area.right() - margin, area.top() + margin))
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

    def _draw_step(self, painter: QPainter, area: QRect, step: int) -> None:
        last = self.session.last_frame
        font = self._font(19)
        font.setFeature(QFont.Tag("tnum"), 1)  # tabular digits: the counter does not jiggle
        fm = QFontMetricsF(font)
        pad, margin = self._px(9), self._px(14)
        text = f"step {step} / {last}"
        widest = fm.horizontalAdvance(f"step {last} / {last}")
        box = QRectF(0, 0, widest + 2 * pad, fm.height() + 1.2 * pad)
        box.moveBottomRight(QPointF(area.right() - margin, area.bottom() - margin))
        self._box(painter, box)
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
