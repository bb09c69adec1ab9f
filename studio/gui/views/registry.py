"""The views registry: for each view in `studio.export.views.VIEWS`, the widgets that draw it.

One row per view: its Qt-free description (name, title, 2-D or 3-D), the widget the window
shows, the hidden widget an export grabs, and the window's dock title ("" for the central
widget). The window builds its views from this table, and the export renderer its panels.
What a view offers is typed by the protocols below, not probed by attribute names.

Adding a view: its widget module in this package, a row in `studio.export.views.VIEWS`
(and an `EXPORT_VIEWS` row to export it) and a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QWidget

from studio.export.views import VIEWS as VIEW_INFO
from studio.export.views import ViewInfo
from studio.gui.session import Session


class StudioView(Protocol):
    """What every view offers: built from a Session alone, it follows the session's
    signals by itself; the host only chooses its theme."""

    def set_dark(self, dark: bool) -> None: ...


@runtime_checkable
class FollowsTrail(Protocol):
    """A view that draws paths behind the balls (the loss plot shows whole curves)."""

    def set_trail_length(self, n: int | None) -> None: ...


@runtime_checkable
class Timed(Protocol):
    """A view an export draws at fractional steps (balls part-way between two steps)."""

    def set_time(self, t: float) -> None: ...


@runtime_checkable
class Refits(Protocol):
    """A 2-D view that fits its axes to the data again after a resize."""

    def reset_view(self) -> None: ...


@runtime_checkable
class CameraView(Protocol):
    """A 3-D view: a camera the export frames, markers sized for the frame."""

    def camera(self) -> tuple[float, float, float]: ...
    def set_camera(
        self, azimuth: float, elevation: float, distance: float | None = None
    ) -> None: ...
    def is_framed(self) -> bool: ...


@runtime_checkable
class OffscreenCamera(CameraView, Protocol):
    """The export's hidden 3-D widget: also held still and grabbed from its framebuffer."""

    def hold_camera(self) -> None: ...
    def set_marker_scale(self, factor: float) -> None: ...
    def grabFramebuffer(self) -> QImage: ...
    def preset_angles(self, name: str) -> tuple[float, float]: ...


ViewFactory = Callable[[Session], QWidget]


@dataclass(frozen=True)
class ViewEntry:
    info: ViewInfo
    window: ViewFactory  # the widget the window shows
    offscreen: ViewFactory  # the hidden widget an export renders
    dock: str = ""  # the window's dock title; "" for the central widget

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def dims(self) -> int:
        return self.info.dims


def _view3d_window(session: Session) -> QWidget:
    from studio.gui.views.view3d import View3DPanel

    # A native GL window inside the main window repaints only itself (see View3DPanel).
    return View3DPanel(session)


def _view3d_offscreen(session: Session) -> QWidget:
    from studio.gui.views.view3d import View3D

    return View3D(session)  # a QOpenGLWidget: grabFramebuffer() at any size


def _contour(session: Session) -> QWidget:
    from studio.gui.views.contour import ContourView

    return ContourView(session)


def _loss_window(session: Session) -> QWidget:
    from studio.gui.views.loss_plot import LossView

    return LossView(session)


def _loss_offscreen(session: Session) -> QWidget:
    from PyQt6.QtWidgets import QCheckBox, QComboBox, QLabel

    view = _loss_window(session)
    # The window's loss view carries its own controls (log scale, lower plot); a slide
    # shows the plots alone.
    for control in (QCheckBox, QComboBox, QLabel):
        for child in view.findChildren(control):
            child.hide()
    return view


VIEWS: dict[str, ViewEntry] = {
    e.name: e
    for e in (
        ViewEntry(VIEW_INFO["3d"], _view3d_window, _view3d_offscreen),
        ViewEntry(VIEW_INFO["contour"], _contour, _contour, dock="Map"),
        ViewEntry(VIEW_INFO["loss"], _loss_window, _loss_offscreen, dock="Loss"),
    )
}
if set(VIEWS) != set(VIEW_INFO):
    raise RuntimeError("every view in studio.export.views.VIEWS needs a row here, and only they")


def view_entry(name: str) -> ViewEntry:
    return VIEWS[name]


__all__ = [
    "VIEWS",
    "CameraView",
    "FollowsTrail",
    "OffscreenCamera",
    "Refits",
    "StudioView",
    "Timed",
    "ViewEntry",
    "ViewFactory",
    "view_entry",
]
