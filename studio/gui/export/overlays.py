"""Title, legend and step counter over exported frames: fonts, sizes, places, painting.

They are drawn with QPainter at the export resolution (the views' own QLabel overlays are
child widgets and never reach a framebuffer grab), sized at 720p and scaled with the
frame. Their sizes are measured once for the whole clip, so nothing changes size or jumps
between frames. Over a 2D view the title and step counter share a band above the plots
and the legend takes the emptiest corner inside a plot (or a column beside the plots);
over a 3D view they sit in the sky (the camera fit keeps the surface out of them).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PyQt6.QtCore import QPointF, QRect, QRectF, QSizeF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath

from studio.export.views import export_view
from studio.gui.session import Session
from studio.gui.theme import Theme
from studio.gui.views.legend import legend_entries
from studio.gui.views.trails import status_at

LEGEND_SCALES = (1.0, 0.85, 0.72, 0.6, 0.5)  # how far a 3D view's legend may shrink
MIN_LEGEND_PX = 8.0  # ... while its labels stay legible (as big as the 3D tick labels)


class Overlays:
    """The overlays of one clip: `view` is the export's view, `steps` the step of each
    frame, `scale` frame pixels per 720p design pixel. `top` is the height of the band
    above 2D views (0: none), `legend_size` the legend box for the whole clip (None: no
    legend), `title_text` the title as drawn (scaled and wrapped to fit where it is placed,
    never cut; `title_font_px` its font size)."""

    def __init__(
        self,
        session: Session,
        steps: np.ndarray,
        theme: Theme,
        scale: float,
        view: str,
        title: str,
        legend: bool,
        step_counter: bool,
    ) -> None:
        self.session = session
        self.steps = steps
        self.theme = theme
        self.scale = scale
        self.view = view
        shown = export_view(view)
        self.flat = shown.flat  # only 2-D plots: overlays go in the band, off the data
        self.title = title
        self.title_text = title
        self.title_font_px = self.title_font().pixelSize()
        # 2D views get a band above them for the title and (alone in the frame) the step
        # counter, so neither covers data; the 3D view has sky to spare for overlays.
        band = not shown.single_3d and (bool(title) or (self.flat and step_counter))
        self.top = round(self.title_font().pixelSize() * 2.0) if band else 0
        # The legend's own scale: a 3D view shrinks a long legend rather than pull the
        # camera back to make room for it (`place_legend_3d`).
        self.legend_scale = 1.0
        self._legend_rows_seen: tuple[int, list[tuple[str, str]]] | None = None
        self.legend_size = self._measure_legend() if legend else None
        self._boxes: dict[tuple[float, float, float, float], QImage] = {}  # see _box

    # ------------------------------------------------------------------ fonts and sizes

    def px(self, value: float) -> float:
        return value * self.scale

    def _font(self, px: float, weight: QFont.Weight = QFont.Weight.Normal) -> QFont:
        font = QFont()
        font.setPixelSize(max(6, round(self.px(px))))
        font.setWeight(weight)
        font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
        return font

    def title_font(self) -> QFont:
        return self._font(24, QFont.Weight.DemiBold)

    def _legend_fonts(self) -> tuple[QFont, QFont]:
        k = self.legend_scale
        return self._font(19 * k), self._font(15 * k)

    def _lpx(self, value: float) -> float:
        """Legend pixels: design pixels at the frame's and the legend's scale."""
        return self.px(value) * self.legend_scale

    def set_legend_scale(self, scale: float) -> None:
        """Draw the legend `scale` × its size (fonts, dots, padding) and measure it again."""
        self.legend_scale = float(scale)
        if self.legend_size is not None:
            self.legend_size = self._measure_legend()

    def _step_font(self) -> QFont:
        font = self._font(19)
        font.setFeature(QFont.Tag("tnum"), 1)  # tabular digits: the counter does not jiggle
        return font

    def _legend_rows(self, step: int) -> list[tuple[str, str, str]]:
        """(colour, label, outcome so far) per listed run; a last "+N more" row without a
        colour when there are more runs than a legend lists (the window's rule)."""
        trajectory = self.session.trajectory
        rows, more = legend_entries(
            self.session.scene.runs, trajectory, status_at(trajectory, step)
        )
        return rows + [("", f"+{more} more", "")] if more else rows

    def _legend_metrics(self) -> tuple[float, float, float, float]:
        """pad, dot radius, gap, line height."""
        fm = QFontMetricsF(self._legend_fonts()[0])
        dot = self._lpx(8)
        return self._lpx(10), dot, self._lpx(10), max(fm.height(), 2 * dot) + self._lpx(4)

    def _measure_legend(self) -> QSizeF | None:
        """The legend box for the whole clip: as wide as its widest row at any frame, so
        the box never changes size or place while outcomes appear."""
        font, note_font = self._legend_fonts()
        fm, nm = QFontMetricsF(font), QFontMetricsF(note_font)
        pad, dot, gap, line = self._legend_metrics()
        if self._legend_rows_seen is None:
            n = int(self.steps.size)
            seen: list[tuple[str, str]] = []
            count = 0
            for i in sorted(set(np.linspace(0, n - 1, min(n, 24)).round().astype(int).tolist())):
                rows = self._legend_rows(int(self.steps[i]))
                count = len(rows)
                seen += [(label, note) for _c, label, note in rows]
            self._legend_rows_seen = (count, seen)
        count, seen = self._legend_rows_seen
        widest = 0.0
        if count:
            for label, note in seen:
                widest = max(
                    widest,
                    2 * dot
                    + gap
                    + fm.horizontalAdvance(label)
                    + (gap + nm.horizontalAdvance(f"— {note}") if note else 0),
                )
        if not count:
            return None
        return QSizeF(widest + 2 * pad, line * count + 2 * pad - self._lpx(4))

    def _step_size(self) -> QSizeF:
        fm = QFontMetricsF(self._step_font())
        last = self.session.last_frame
        pad = self.px(9)
        return QSizeF(
            fm.horizontalAdvance(f"step {last} / {last}") + 2 * pad, fm.height() + 1.2 * pad
        )

    # ------------------------------------------------------------------ placement

    def place_step(self, band: QRectF, main: QRectF) -> QRectF:
        """At the right of the title band over a 2D view, else at the bottom right of the
        main panel."""
        margin = self.px(14)
        rect = QRectF(QPointF(0, 0), self._step_size())
        if self.flat:  # at the right of the title band
            rect.moveCenter(QPointF(0, band.center().y()))
            rect.moveRight(band.right() - margin)
        else:
            rect.moveBottomRight(main.bottomRight() - QPointF(margin, margin))
        return rect

    def place_title(self, area: QRectF, step_rect: QRectF | None) -> QRectF:
        """Top left of `area` (the band, else the main panel), clear of the step counter in
        the band or the legend beside it. A long title is never cut: it scales down, then
        wraps (sets `title_text`, one line per row, and `title_font_px`)."""
        pad, margin = self.px(10), self.px(14)
        max_width = area.width() - 2 * margin - 2 * pad
        if self.top and step_rect is not None and step_rect.top() < self.top:
            max_width = step_rect.left() - area.left() - 3 * margin
        elif not self.top and self.legend_size is not None:  # beside the legend
            max_width -= self.legend_size.width() + margin
        max_width = max(max_width, self.px(120))
        full = self.title_font().pixelSize()
        # In a band the lines must fit its height; over a 3D view the box may grow.
        max_height = self.top * 0.92 if self.top else math.inf
        font, lines = self._wrap_title(max_width, max_height, full)
        self.title_font_px = font.pixelSize()
        self.title_text = "\n".join(lines)
        metrics = QFontMetricsF(font)
        width = max(metrics.horizontalAdvance(line) for line in lines)
        height = metrics.lineSpacing() * (len(lines) - 1) + metrics.height()
        if self.top:  # a band of its own: centred vertically, no box needed
            return QRectF(
                area.left() + margin, area.top() + (area.height() - height) / 2, width, height
            )
        return QRectF(
            area.left() + margin, area.top() + margin, width + 2 * pad, height + 1.2 * pad
        )

    def _wrap_title(
        self, max_width: float, max_height: float, full_px: int
    ) -> tuple[QFont, list[str]]:
        """The largest title font (down to half size) whose word-wrapped lines fit
        `max_width` and `max_height`; one line while scaling down to 80 % fits."""
        words = self.title.split()
        best: tuple[QFont, list[str]] | None = None
        for factor in (1.0, 0.9, 0.8, 0.72, 0.64, 0.57, 0.5):
            font = QFont(self.title_font())
            font.setPixelSize(max(6, round(full_px * factor)))
            metrics = QFontMetricsF(font)
            lines = _wrap(words, metrics, max_width)
            height = metrics.lineSpacing() * (len(lines) - 1) + metrics.height()
            fits = (
                all(metrics.horizontalAdvance(x) <= max_width for x in lines)
                and height <= max_height
            )
            if fits and (len(lines) == 1 or factor <= 0.8):
                return font, lines
            best = (font, lines)
        assert best is not None
        return best

    def place_legend_3d(
        self,
        main: QRectF,
        title_rect: QRectF | None,
        camera_distance: Callable[[QRectF | None], float],
        step_rect: QRectF | None = None,
    ) -> QRectF | None:
        """Where the legend goes over a 3D view (None: a frame too small to hold it anywhere
        legibly, where it is left out). The scene never makes way for it: the
        camera fitted with no legend is the one to keep, and the legend takes the first
        place that does not push the surface back (top right; top left where the title is
        not; bottom left, beside the step counter), at full size or else shrunk in steps
        to half (`set_legend_scale`), its labels never under `MIN_LEGEND_PX`. Should none
        fit, the place and size that push the surface back least. `camera_distance`: the
        fitted camera's distance with the legend at a place (None: no legend)."""
        assert self.legend_size is not None
        free = camera_distance(None) * 1.01
        best: tuple[float, float, QRectF] | None = None
        for scale in LEGEND_SCALES:
            if scale < 1.0 and self.px(19 * scale) < MIN_LEGEND_PX:
                break
            self.set_legend_scale(scale)
            for box in self._legend_places(main, [title_rect, step_rect]):
                distance = camera_distance(box)
                if distance <= free:
                    return box
                if best is None or distance < best[0] - 1e-9:
                    best = (distance, scale, box)
        if best is None:
            return None
        self.set_legend_scale(best[1])
        return best[2]

    def _legend_places(self, main: QRectF, taken: list[QRectF | None]) -> list[QRectF]:
        """The legend's box at each place it may take over a 3D view, in order, leaving
        out those that would cover a `taken` box (the title, the step counter)."""
        assert self.legend_size is not None
        margin = self.px(14)
        places = []
        for corner, at in (
            ("TopRight", QPointF(main.right() - margin, main.top() + margin)),
            ("TopLeft", QPointF(main.left() + margin, main.top() + margin)),
            ("BottomLeft", QPointF(main.left() + margin, main.bottom() - margin)),
        ):
            box = QRectF(QPointF(0, 0), self.legend_size)
            getattr(box, "move" + corner)(at)
            if any(t is not None and box.intersects(t) for t in taken):
                continue
            places.append(box)
        return places

    def place_legend_2d(
        self, panel: QRect, viewboxes: list[QRectF], busy: np.ndarray
    ) -> tuple[QRectF, QRect | None]:
        """Inside a plot (`viewboxes`, frame pixels), in the corner where no data is drawn
        over the clip (`busy`, panel pixels); failing that, in a column beside the plots.
        Returns the legend box and, for a column, the narrower panel the plots then take
        (None: the panel keeps its place)."""
        assert self.legend_size is not None
        size = self.legend_size
        margin = self.px(14)
        best: tuple[float, QRectF] | None = None
        for vb in viewboxes:
            inner = vb.adjusted(margin, margin, -margin, -margin)
            if inner.width() < size.width() or inner.height() < size.height():
                continue
            for corner in ("topRight", "topLeft", "bottomRight", "bottomLeft"):
                box = QRectF(QPointF(0, 0), size)
                getattr(box, "move" + corner[0].upper() + corner[1:])(getattr(inner, corner)())
                clear = box.adjusted(-margin / 2, -margin / 2, margin / 2, margin / 2)
                score = _fraction(busy, clear.translated(-QPointF(panel.topLeft())))
                if best is None or score < best[0] - 1e-4:
                    best = (score, box)
        if best is not None and best[0] <= 0.002:
            return best[1], None
        column = math.ceil(size.width() + 2 * margin)
        if column > panel.width() / 2:  # a thumbnail: no room for a column
            if best is not None:
                return best[1], None
            box = QRectF(QPointF(0, 0), size)
            box.moveTopRight(QPointF(panel.right() - margin, panel.top() + margin))
            return box, None
        # No empty corner: a column at the right of the frame, the plots narrower.
        rect = QRect(panel)
        rect.setRight(rect.right() - column)
        box = QRectF(QPointF(0, 0), size)
        box.moveTopLeft(QPointF(rect.right() + 1 + margin, rect.top() + margin))
        return box, rect

    # ------------------------------------------------------------------ painting

    def _box(self, painter: QPainter, rect: QRectF) -> None:
        """The rounded panel under an overlay. Its antialiased outline is rasterised once
        per clip, into an image that each frame copies (filling the path cost about a
        millisecond a box a frame); the image keeps the box's sub-pixel offset, so the
        result is the path's own."""
        x0, y0 = math.floor(rect.left()), math.floor(rect.top())
        key = (rect.left() - x0, rect.top() - y0, rect.width(), rect.height())
        image = self._boxes.get(key)
        if image is None:
            image = QImage(
                math.ceil(rect.right()) - x0 + 1,
                math.ceil(rect.bottom()) - y0 + 1,
                QImage.Format.Format_ARGB32_Premultiplied,
            )
            image.fill(Qt.GlobalColor.transparent)
            path = QPainterPath()
            radius = self.px(7)
            path.addRoundedRect(rect.translated(-x0, -y0), radius, radius)
            box_painter = QPainter(image)
            box_painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            box_painter.fillPath(path, css_color(self.theme.panel))
            box_painter.end()
            self._boxes[key] = image
        painter.drawImage(QPointF(x0, y0), image)

    def draw_title(self, painter: QPainter, rect: QRectF) -> None:
        font = self.title_font()
        font.setPixelSize(self.title_font_px)
        metrics = QFontMetricsF(font)
        if self.top:  # in the band: no box needed
            x, y = rect.left(), rect.top() + metrics.ascent()
        else:
            pad = self.px(10)
            self._box(painter, rect)
            x, y = rect.left() + pad, rect.top() + 0.6 * pad + metrics.ascent()
        painter.setFont(font)
        painter.setPen(QColor(self.theme.foreground))
        for k, line in enumerate(self.title_text.split("\n")):
            painter.drawText(QPointF(x, y + k * metrics.lineSpacing()), line)

    def draw_legend(self, painter: QPainter, box: QRectF, step: int) -> None:
        rows = self._legend_rows(step)
        font, note_font = self._legend_fonts()
        fm, nm = QFontMetricsF(font), QFontMetricsF(note_font)
        pad, dot, gap, line = self._legend_metrics()
        self._box(painter, box)
        outline = QColor(self.theme.outline)
        for k, (colour, label, note) in enumerate(rows):
            cy = box.top() + pad + k * line + (line - self._lpx(4)) / 2
            x = box.left() + pad
            if colour:
                painter.setPen(outline)
                painter.setBrush(QColor(self.theme.run_color(colour)))
                painter.drawEllipse(QPointF(x + dot, cy), dot, dot)
            painter.setPen(QColor(self.theme.foreground))
            painter.setFont(font)
            tx = x + 2 * dot + gap
            painter.drawText(QPointF(tx, cy + (fm.ascent() - fm.descent()) / 2), label)
            if note:
                diverged = "diverged" in note
                painter.setPen(QColor(self.theme.diverged if diverged else self.theme.foreground))
                painter.setFont(note_font)
                painter.drawText(
                    QPointF(
                        tx + fm.horizontalAdvance(label) + gap,
                        cy + (nm.ascent() - nm.descent()) / 2,
                    ),
                    f"— {note}",
                )

    def draw_step(self, painter: QPainter, box: QRectF, step: int) -> None:
        font = self._step_font()
        fm = QFontMetricsF(font)
        pad = self.px(9)
        text = f"step {step} / {self.session.last_frame}"
        if not self.flat:
            self._box(painter, box)  # over a 3D view; in the band it needs none
        painter.setFont(font)
        painter.setPen(QColor(self.theme.foreground))
        painter.drawText(
            QPointF(
                box.right() - pad - fm.horizontalAdvance(text), box.top() + 0.6 * pad + fm.ascent()
            ),
            text,
        )


def _wrap(words: list[str], metrics: QFontMetricsF, width: float) -> list[str]:
    """Words in greedy lines no wider than `width` (a longer word gets a line alone)."""
    lines: list[str] = []
    for word in words:
        if lines and metrics.horizontalAdvance(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


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
        r, g, b, a = (int(text[i : i + 2], 16) for i in (1, 3, 5, 7))
        return QColor(r, g, b, a)
    return QColor(text)
