"""Start the Qt application and the studio window; `--screenshot` support.

Environment set-up happens here, before PyQt6 or PyOpenGL load:
- `AA_ShareOpenGLContexts` before the QApplication exists: pyqtgraph caches compiled shaders
  globally, and a second GL widget without shared contexts fails with GLError 1281.
- `PYOPENGL_PLATFORM=glx` on X11: PyOpenGL picks EGL when WAYLAND_DISPLAY is set even when
  Qt renders through GLX, and then every GL call fails.
- A UTF-8 character locale: under `LANG=C` (minimal machines, cron, some containers) Qt
  switches to C.UTF-8 by itself but prints four lines of warning first; we switch silently.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from studio.errors import StudioError


def prepare_environment() -> None:
    """Call before importing PyQt6/pyqtgraph/OpenGL in any entry point (app, tests, render)."""
    if sys.platform.startswith("linux"):
        _use_utf8_locale()
        qpa = os.environ.get("QT_QPA_PLATFORM", "")
        if not qpa and not os.environ.get("DISPLAY") and os.environ.get("WAYLAND_DISPLAY"):
            return  # a pure Wayland session: let Qt and PyOpenGL agree on EGL
        if qpa in ("", "xcb"):
            os.environ.setdefault("PYOPENGL_PLATFORM", "glx")


def _use_utf8_locale() -> None:
    """What Qt would do under a non-UTF-8 locale (use C.UTF-8 for characters), quietly."""
    var = next((v for v in ("LC_ALL", "LC_CTYPE", "LANG") if os.environ.get(v)), "")
    value = os.environ.get(var, "") if var else ""
    if value.upper().replace("-", "").endswith("UTF8"):
        return
    os.environ["LC_ALL" if var == "LC_ALL" else "LC_CTYPE"] = "C.UTF-8"


def get_app():
    """The QApplication, created once with the attributes the GL views need."""
    prepare_environment()
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QApplication

    from studio.gui.gui_priority import StudioApplication

    global _APP
    app = QApplication.instance()
    if app is None:
        QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = StudioApplication(sys.argv[:1])
        app.setApplicationName("Descent Studio")
        app.setOrganizationName("Descent Studio")
        from studio.gui.icon import app_icon

        app.setWindowIcon(app_icon())
        # Held for the process's life: PyQt deletes a QApplication whose last Python
        # reference goes, and the next one brings a new GL share group, in which
        # pyqtgraph's process-wide cache of compiled shaders names nothing (GLError 1281).
        _APP = app
    return app


_APP = None


def run_gui(
    scene_path: Path | None = None,
    screenshot: Path | None = None,
    size: tuple[int, int] | None = None,
) -> int:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise StudioError(
            "no display: run inside a desktop session, or under Xvfb (xvfb-run -a studio gui ...)"
        )
    app = get_app()
    from studio.gui import crash_report
    from studio.gui.main_window import MainWindow

    crash_report.install()  # after pyqtgraph's import, which sets a hook of its own

    # A bad scene file raises StudioError here, before any window shows: the CLI prints it.
    window = MainWindow(
        scene_path=scene_path, restore=screenshot is None, autoplay=screenshot is None
    )
    if size is not None:
        window.resize(*size)
    window.show()
    if screenshot is not None:
        from studio.gui.screenshot import save_when_painted

        session = window.session
        # A scene the engine refuses (a start where f is undefined) never gets a trajectory:
        # the window then shows the reason, and that is what the picture shows.
        refused: list[str] = []
        session.errorRaised.connect(refused.append)
        window.prepare_screenshot()  # waits for the simulation (or its refusal)
        save_when_painted(
            window,
            screenshot,
            ready=lambda: not session.busy and (session.trajectory is not None or bool(refused)),
        )
    code = app.exec()
    # The window goes while the application still runs. Left to the interpreter's exit,
    # PyQt's clean-up deletes it while walking its table of wrappers, and the children's
    # wrappers freed under that walk crashed the process (exit 139 after a clean close).
    window.deleteLater()
    app.processEvents()
    return code
