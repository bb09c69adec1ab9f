"""Save a PNG of a window once its GL views have really painted (`--screenshot`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QBuffer, QIODevice, QPoint, QRect, QTimer
from PyQt6.QtGui import QImage, QPainter
from PyQt6.QtWidgets import QApplication, QWidget

from studio.atomic import write_atomically
from studio.errors import StudioError

FRAMES_BEFORE_GRAB = 3  # the first swap can still show an unresized or empty buffer
TIMEOUT_MS = 20_000


def save_when_painted(window: QWidget, path: Path, ready: Callable[[], bool] | None = None) -> None:
    """Wait until every GL widget in `window` has swapped a few frames, then grab and quit.

    `ready`: the window has its content (the first trajectory arrived); swaps are counted
    only from then on, so the grab shows the balls and trails, not an empty surface.

    `QWidget.grab()` composes QOpenGLWidget contents but cannot see a native GL window
    (the main 3D view), so each `View3DPanel`'s picture is painted in at its place.
    The application exits with status 0 on success, 2 when the file cannot be written.
    """
    from PyQt6.QtOpenGLWidgets import QOpenGLWidget

    from studio.gui.views.view3d import View3DPanel

    app = QApplication.instance()
    panels = window.findChildren(View3DPanel)
    gl_widgets = window.findChildren(QOpenGLWidget) + [p.view for p in panels]
    swaps = [0] * len(gl_widgets)

    def counter(index: int):
        def on_swap() -> None:
            swaps[index] += 1

        return on_swap

    for i, w in enumerate(gl_widgets):
        w.frameSwapped.connect(counter(i))
        w.update()

    waited = [0]

    def poll() -> None:
        waited[0] += 50
        for w in gl_widgets:
            w.update()
        if ready is not None and not ready() and waited[0] < TIMEOUT_MS:
            swaps[:] = [0] * len(swaps)
            return
        painted = all(n >= FRAMES_BEFORE_GRAB for n in swaps)
        if not painted and waited[0] < TIMEOUT_MS:
            return
        timer.stop()
        image = grab_window(window, panels)
        try:
            save_png_atomically(image, path)
        except StudioError as exc:
            import sys

            print(f"studio: error: {exc}", file=sys.stderr)
            app.exit(2)
            return
        app.exit(0)

    timer = QTimer(window)
    timer.timeout.connect(poll)
    timer.start(50)


def grab_window(window: QWidget, panels: list) -> QImage:
    """The window as a user sees it, native 3D windows included."""
    image = window.grab().toImage()
    painter = QPainter(image)
    for panel in panels:
        if panel.isVisible():
            origin = panel.container.mapTo(window, QPoint(0, 0))
            painter.drawImage(QRect(origin, panel.container.size()), panel.grab_scene())
    painter.end()
    return image


def save_png_atomically(image: QImage, path: Path) -> None:
    """Save `image` as a PNG through a temporary file beside `path`, renamed on success, so a
    full disk or a failed write leaves no partial picture; StudioError (one line) on failure."""
    # Encoded in memory, then written with Python's file calls: QImage.save onto a file says
    # only False, where the OS's reason (no space left, read-only) is what helps.
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise StudioError(f"cannot write screenshot {path}: the image could not be encoded")
    data = buffer.data().data()
    write_atomically(path, lambda fh: fh.write(data))
