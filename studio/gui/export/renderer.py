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
The parts live beside this module: the panels and how each is sized and grabbed in
`panels`, the overlays' fonts, places and painting in `overlays`, the 3D camera fit in
`studio.gui.views.camera_fit`; the options, frame plan and titles are Qt-free, in
`studio.export`. Frames are produced one at a time (`render_frames` is a generator;
`export` streams them to an encoder through `studio.export.frames.FrameLoop`), so memory
stays flat however long the clip.

GL needs the GUI thread: the GUI drives the same frame loop from a timer in small slices
(studio.gui.export.job); the encoder runs in its own process.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QPointF, QRect, QRectF
from PyQt6.QtGui import QColor, QImage, QPainter

from studio.engine import RUNNING
from studio.errors import StudioError
from studio.export import format_of, open_writer, writer_class
from studio.export.frames import ExportCancelled, FrameLoop, ProgressCallback
from studio.export.options import (
    RenderOptions,
    check_frame_size,
    even_size,
    plan_steps,
    plan_times,
    seconds,
)
from studio.export.titles import default_title, pretty_formula
from studio.export.views import export_view
from studio.gui.export.overlays import Overlays
from studio.gui.export.panels import (
    Panel,
    axis_font_px,
    busy_mask,
    fit_2d,
    grab,
    layout,
    make_view,
    qimage_to_rgb,
    size_gl,
    style_plots,
    ui_scale,
    viewbox_rects,
)
from studio.gui.session import Session
from studio.gui.settings import LOWER_PLOT_NAMES
from studio.gui.theme import Theme, theme_for
from studio.gui.views.camera_fit import fit_camera, orbit_turn
from studio.gui.views.registry import FollowsTrail, OffscreenCamera, Timed
from studio.scene import Scene

__all__ = [
    "ExportCancelled",
    "OffscreenRenderer",
    "ProgressCallback",
    "RenderOptions",
    "axis_font_px",
    "default_title",
    "even_size",
    "export",
    "export_under",
    "plan_steps",
    "pretty_formula",
    "render_frames",
    "seconds",
    "still_options",
]


# ------------------------------------------------------------------------------ renderer


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
        try:
            self.shown = export_view(options.view)
        except ValueError as exc:
            raise StudioError(str(exc)) from None
        check_frame_size(options.size)
        self.options = options
        self.session = Session(scene, threaded=False)
        if self.session.trajectory is None:
            self._raise_simulation_error(scene)
        # The moment each frame shows (fractional steps: the balls glide between steps),
        # and the step its counter reads.
        self.times = plan_times(options, self._last_moving_step(options))
        self.steps = np.floor(self.times + 1e-9).astype(int)
        self.theme: Theme = theme_for(options.dark)
        self.scale = ui_scale(options.size)
        self.title = (
            default_title(scene, self.session.surface)
            if options.title is None
            else options.title.strip()
        )
        self.title_rect: QRectF | None = None
        self.legend_rect: QRectF | None = None
        self.step_rect: QRectF | None = None
        self.overlays = Overlays(
            self.session,
            self.steps,
            self.theme,
            self.scale,
            options.view,
            self.title,
            options.legend,
            options.step_counter,
        )
        self.panels: list[Panel] = []
        for kind, rect in layout(options.view, options.size, self.overlays.top):
            widget = make_view(kind, self.session)
            widget.set_dark(options.dark)
            configure_view(widget, options)
            if isinstance(widget, FollowsTrail):  # the loss plot always shows whole curves
                widget.set_trail_length(options.trail)
            widget.setMinimumSize(1, 1)  # the window's minimums do not bind a small export
            panel = Panel(kind, widget, rect)
            if panel.dims == 3:
                size_gl(panel, self.scale)
            else:
                style_plots(widget, options.size, self.scale)
                fit_2d(panel, self.scale, self.theme.background)
            self.panels.append(panel)
        self._fit_domains()
        self._panel3d = next((p for p in self.panels if p.dims == 3), None)
        self._view3d: OffscreenCamera | None = (
            None if self._panel3d is None else self._panel3d.camera_view
        )
        self._place_overlays()

    # ------------------------------------------------------------------ set-up

    def _fit_domains(self) -> None:
        """A map keeps the domain's aspect, so in a slot of another shape its axes would
        run past the domain (a square domain in a 16:9 frame: axes -16..16 beside empty
        bands). Its panel is cut to the domain instead: a too-wide one narrows (alone in
        the frame it keeps the left, and the legend takes the freed column), a too-tall
        one gives its spare height to the plot below it."""
        domain = getattr(self.session.surface, "domain", None)
        if domain is None:
            return
        xmin, xmax, ymin, ymax = (float(v) for v in domain)
        aspect = (xmax - xmin) / max(ymax - ymin, 1e-12)
        for k, panel in enumerate(self.panels):
            if panel.kind != "contour":
                continue
            boxes = viewbox_rects(panel)
            if not boxes:
                continue
            box = boxes[0]
            rect = QRect(panel.rect)
            if box.width() > box.height() * aspect * 1.03:
                spare = int(box.width() - box.height() * aspect) & ~1
                rect.setWidth(rect.width() - spare)
                if len(self.panels) > 1:
                    rect.translate(spare // 2, 0)
            elif box.height() > box.width() / aspect * 1.03:
                spare = int(box.height() - box.width() / aspect) & ~1
                rect.setHeight(rect.height() - spare)
                below = next(
                    (
                        p
                        for p in self.panels[k + 1 :]
                        if p.rect.left() == rect.left() and p.dims == 2
                    ),
                    None,
                )
                if below is not None:
                    below.rect = QRect(
                        below.rect.left(),
                        below.rect.top() - spare,
                        below.rect.width(),
                        below.rect.height() + spare,
                    )
                    fit_2d(below, self.scale, self.theme.background)
            else:
                continue
            panel.rect = rect
            fit_2d(panel, self.scale, self.theme.background)

    def _place_overlays(self) -> None:
        opts, w = self.options, self.options.size[0]
        overlays = self.overlays
        main = QRectF(self.panels[0].rect)
        flat = self.shown.flat
        band = QRectF(0, 0, w, overlays.top)
        if opts.step_counter:
            self.step_rect = overlays.place_step(band, main)
        if self.title:
            self.title_rect = overlays.place_title(band if overlays.top else main, self.step_rect)
        if overlays.legend_size is not None:
            if flat:
                self.legend_rect = self._place_legend_2d(self.panels[0])
            else:
                self.legend_rect = overlays.place_legend_3d(
                    main,
                    self.title_rect,
                    lambda box: self._fit_camera(box, apply=False),
                    self.step_rect,
                )
        if self._view3d is not None:
            self._fit_camera(self.legend_rect)

    def _place_legend_2d(self, panel: Panel) -> QRectF:
        """The legend in the frame's free column where a map left one, else inside a plot
        where no data is drawn over the clip, or in a column beside the plots, which then
        narrow (and are fitted again) to make room."""
        size = self.overlays.legend_size
        assert size is not None
        margin = self.overlays.px(14)
        free = self.options.size[0] - panel.rect.right() - 1
        if len(self.panels) == 1 and free >= size.width() + 2 * margin:
            box = QRectF(QPointF(0, 0), size)
            box.moveTopLeft(QPointF(panel.rect.right() + 1 + margin, panel.rect.top() + margin))
            return box
        busy = busy_mask(panel, self.session, self.steps, self.scale, self.theme.background)
        box, narrowed = self.overlays.place_legend_2d(panel.rect, viewbox_rects(panel), busy)
        if narrowed is not None:
            panel.rect = narrowed
            fit_2d(panel, self.scale, self.theme.background)
        return box

    def _fit_camera(self, legend: QRectF | None, apply: bool = True) -> float:
        """The 3D camera's distance with the legend at `legend` (`fit_camera`), from the
        options' azimuth and elevation where they give them; a distance they give is kept
        as it is. `apply`: also move the camera there and keep it for `render`."""
        view, panel = self._view3d, self._panel3d
        assert view is not None and panel is not None
        az, el, dist = view.camera()
        if self.options.auto_camera:
            az, el = self._auto_angles(view)
        elif self.options.camera is not None:
            az, el, given = self.options.camera
            if given is not None:
                if apply:
                    self._camera = (az, el, float(given))
                return float(given)
        fitted = fit_camera(
            view,
            (az, el, dist),
            QRectF(panel.rect),
            [legend, self.step_rect],
            self.title_rect,
            self.overlays.px(8),
            self.options.orbit,
            apply,
        )
        if apply:
            self._camera = (az, el, fitted)
        return fitted

    def _last_moving_step(self, options: RenderOptions) -> int:
        """Where the clip ends by default: the last step, or, when every ball stopped before
        it (converged, stopped early, diverged), the step after the last one stopped: the
        clip spends its time on motion and then holds the ending, not on a still tail."""
        last = self.session.last_frame
        trajectory = self.session.trajectory
        if options.to_step is not None or trajectory is None or trajectory.n_balls == 0:
            return last
        if bool(np.any(trajectory.status == RUNNING)):
            return last
        return max(min(last, int(np.max(trajectory.stop_step)) + 1), options.from_step, 1)

    @staticmethod
    def _auto_angles(view: OffscreenCamera) -> tuple[float, float]:
        """The angles `--camera auto` looks from: the 3D view's "auto" preset, angles scored
        by how much of the paths they show (`camera_fit.auto_camera`)."""
        from studio.gui.views.view3d import AUTO

        return view.preset_angles(AUTO)

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
        t = float(self.times[index])
        # The session moves silently: each view draws the fractional moment once, by
        # `set_time`, instead of the whole step first through `frameChanged`.
        self.session.blockSignals(True)
        try:
            self.session.set_frame(step)
        finally:
            self.session.blockSignals(False)
        for panel in self.panels:
            if isinstance(panel.widget, Timed):
                panel.widget.set_time(t)
            else:
                self.session.frameChanged.emit(step)
        if self._view3d is not None:
            az, el, dist = self._camera
            turn = orbit_turn(self.options.orbit, index, self.n_frames)
            self._view3d.set_camera(az + turn, el, dist)
        image = self._compose(step)
        rgb = qimage_to_rgb(image)
        if self.options.transparent:
            return self._keyed(rgb)
        return rgb

    def _keyed(self, rgb: np.ndarray) -> np.ndarray:
        """RGBA with the theme's background transparent (a PNG to lay over a slide); the
        overlays' boxes and everything drawn stay opaque."""
        background = np.array(QColor(self.theme.background).getRgb()[:3], np.int16)
        alpha = np.where(np.abs(rgb.astype(np.int16) - background).max(-1) <= 2, 0, 255)
        return np.dstack([rgb, alpha.astype(np.uint8)])

    def frames(self) -> Iterator[np.ndarray]:
        for i in range(self.n_frames):
            yield self.render(i)

    # ------------------------------------------------------------------ composition

    def _compose(self, step: int) -> QImage:
        w, h = self.options.size
        background = self.theme.background
        if self.shown.single_3d:
            # One 3D view fills the frame: paint the overlays straight onto the grab.
            canvas = grab(self.panels[0], self.scale, background)
            if canvas.format() != QImage.Format.Format_RGB32:
                canvas = canvas.convertToFormat(QImage.Format.Format_RGB32)
        else:
            canvas = QImage(w, h, QImage.Format.Format_RGB32)
            canvas.fill(QColor(background))
        painter = QPainter(canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if not self.shown.single_3d:
            for panel in self.panels:
                painter.drawImage(panel.rect.topLeft(), grab(panel, self.scale, background))
            self._draw_dividers(painter)
        if self.title_rect is not None:
            self.overlays.draw_title(painter, self.title_rect)
        if self.legend_rect is not None:
            self.overlays.draw_legend(painter, self.legend_rect, step)
        if self.step_rect is not None:
            self.overlays.draw_step(painter, self.step_rect, step)
        painter.end()
        return canvas

    def _draw_dividers(self, painter: QPainter) -> None:
        line = QColor(self.theme.foreground)
        line.setAlpha(60)
        painter.setPen(line)
        for panel in self.panels[1:]:
            r = panel.rect
            painter.drawLine(r.left(), r.top(), r.left(), r.bottom())
            if r.top() > self.overlays.top:
                painter.drawLine(r.left(), r.top(), r.right(), r.top())

    @staticmethod
    def _raise_simulation_error(scene: Scene) -> None:
        from studio.engine import simulate
        from studio.surface import surface_from_spec

        simulate(surface_from_spec(scene.surface), list(scene.runs), scene.steps, scene.seed)
        raise StudioError("the scene could not be simulated")


# ------------------------------------------------------------------------------ API


def configure_view(widget: object, options: RenderOptions) -> None:
    """The window's choices that an export carries: the loss view's lower plot and its
    curves unfolding with the clip (the future a faint ghost, if asked), the 3D floor's
    isolines, and antialiased (multisampled) 3D."""
    # Looked up, not imported: an export without such a view need not load its module.
    loss_plot = sys.modules.get("studio.gui.views.loss_plot")
    view3d = sys.modules.get("studio.gui.views.view3d")
    if loss_plot is not None and isinstance(widget, loss_plot.LossView):
        widget.set_second(LOWER_PLOT_NAMES[options.lower_plot])
        widget.set_unfold(True, options.ghost)
    if view3d is not None and isinstance(widget, view3d.View3D):
        widget.set_floor_contours(options.floor_contours)
        if options.msaa > 1:
            # Before the widget first draws: its framebuffer is made with this format.
            fmt = widget.format()
            fmt.setSamples(int(options.msaa))
            widget.setFormat(fmt)


def render_frames(scene: Scene, options: RenderOptions) -> Iterator[np.ndarray]:
    """Each frame of the clip in turn; one frame in memory at a time."""
    renderer = OffscreenRenderer(scene, options)
    try:
        yield from renderer.frames()
    finally:
        renderer.close()


def export_under(
    scene: Scene,
    path: str | Path,
    options: RenderOptions,
    max_bytes: int,
    fixed: bool = False,
    progress_cb: ProgressCallback | None = None,
    cancel_flag: threading.Event | None = None,
    tries: int = 4,
) -> Path:
    """`export`, then, while the file is over `max_bytes`, again smaller: the frame shrinks
    by the square root of the excess (a GIF's bytes follow its pixel count) and the rate
    comes down to 15 frames/s; `fixed`: keep the frame size. ExportError if it never fits."""
    from studio.export import ExportError, playback_fps

    path = Path(path)
    fmt = format_of(path)
    for _ in range(tries):
        export(scene, path, options, progress_cb, cancel_flag)
        size = path.stat().st_size
        if size <= max_bytes:
            return path
        ratio = max_bytes / size
        changes: dict[str, object] = {}
        if options.fps > 15:
            changes["fps"] = playback_fps(fmt, 15.0)
            ratio *= options.fps / 15.0
        if not fixed and ratio < 1:
            k = min(0.95, math.sqrt(ratio) * 0.95)
            w, h = options.size
            changes["size"] = even_size((max(160, int(w * k)), max(90, int(h * k))))
        if not changes or changes.get("size") == options.size and "fps" not in changes:
            break
        options = replace(options, **changes)  # type: ignore[arg-type]
    raise ExportError(
        f"{path.name} is {path.stat().st_size / 1e6:.1f} MB, over the "
        f"{max_bytes / 1e6:g} MB asked for; try a shorter clip"
    )


def still_options(options: RenderOptions, fmt: str) -> RenderOptions:
    """`options` for format `fmt`: a format that holds one picture gets a still."""
    if not writer_class(fmt).animated and not options.still:
        return replace(options, still=True)
    return options


def export(
    scene: Scene,
    path: str | Path,
    options: RenderOptions,
    progress_cb: ProgressCallback | None = None,
    cancel_flag: threading.Event | None = None,
) -> Path:
    """Render and encode to `path` (format from its suffix); the file appears only when
    complete. Raises ExportCancelled when `cancel_flag` is set, ExportError on failure."""
    path = Path(path)
    fmt = format_of(path)
    options = still_options(options, fmt)
    renderer = OffscreenRenderer(scene, options)
    try:
        writer = open_writer(path, options.fps, options.size, fmt)
        FrameLoop(renderer.render, renderer.n_frames, writer, progress_cb, cancel_flag).run()
    finally:
        renderer.close()
    return path
