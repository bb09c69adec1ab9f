"""An unexpected error in a slot is logged and shown once; the window survives it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PyQt6.QtCore import QObject, pyqtSignal

from studio.gui import crash_report


class _Emitter(QObject):
    fired = pyqtSignal()


@pytest.mark.qt_no_exception_capture
def test_the_same_error_every_tick_is_logged_and_shown_once(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crash_report, "log_path", lambda: tmp_path / "errors.log")
    shown: list[tuple[str, str]] = []
    reporter = crash_report.CrashReporter(show=lambda s, d: shown.append((s, d)))
    monkeypatch.setattr("sys.excepthook", reporter.hook)
    emitter = _Emitter()

    def failing_slot() -> None:
        raise IndexError("index 284 is out of bounds for axis 0 with size 71")

    emitter.fired.connect(failing_slot)
    for _ in range(5):
        emitter.fired.emit()
    qtbot.waitUntil(lambda: len(shown) == 1)
    qtbot.wait(20)
    assert len(shown) == 1
    summary, details = shown[0]
    assert summary == "IndexError: index 284 is out of bounds for axis 0 with size 71"
    assert "failing_slot" in details
    assert (tmp_path / "errors.log").read_text().count("Traceback") == 5


def test_a_raising_slot_does_not_abort_the_app_or_print(tmp_path: Path) -> None:
    """With PyQt6's default handling a slot exception aborts the process (exit 134)."""
    script = textwrap.dedent("""
        import sys
        from studio.gui.app import get_app
        app = get_app()
        from PyQt6.QtCore import QTimer
        from studio.gui import crash_report
        reporter = crash_report.install()
        reporter._relay.raised.disconnect()
        reporter._relay.raised.connect(lambda s, d: print("shown:", s))
        def boom():
            raise ValueError("boom")
        QTimer.singleShot(0, boom)
        QTimer.singleShot(0, boom)
        QTimer.singleShot(50, app.quit)
        sys.exit(app.exec())
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "shown: ValueError: boom"
    assert done.stderr == ""
    logs = list(tmp_path.rglob(crash_report.LOG_NAME))
    assert len(logs) == 1 and logs[0].read_text().count("ValueError: boom") == 2
