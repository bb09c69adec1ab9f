"""Save a PNG of a window once its GL views have really painted (`--screenshot`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication, QWidget

from studio.errors import StudioError

FRAMES_BEFORE_GRAB = 3  # the first swap can still show an unresized or empty buffer
TIMEOUT_MS = 20_000


def save_when_painted(window: QWidget, path: Path,
                      ready: Callable[[], bool] | None = None) -> None:
    """Wait until every GL widget in `window` has swapped a few frames, then grab and quit.

    `ready`: the window has its content (the first trajectory arrived); swaps are counted
    only from then on, so the grab shows the balls and trails, not an empty surface.

    `QWidget.grab()` composes QOpenGLWidget contents too, so the PNG is what a user sees.
    The application exits with status 0 on success, 2 when the file cannot be written.
    """
    from PyQt6.QtOpenGLWidgets import QOpenGLWidget

    app = QApplication.instance()
    gl_widgets = window.findChildren(QOpenGLWidget)
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
        image = window.grab().toImage()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not image.save(str(path), "PNG"):
                raise StudioError(f"cannot write screenshot {path}")
        except (OSError, StudioError) as exc:
            import sys

            print(f"studio: error: {exc}", file=sys.stderr)
            app.exit(2)
            return
        app.exit(0)

    timer = QTimer(window)
    timer.timeout.connect(poll)
    timer.start(50)
