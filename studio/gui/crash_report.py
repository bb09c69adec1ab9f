"""The studio's own exception hook: an unexpected error is logged and shown once, never fatal.

PyQt6 aborts the process when a slot raises and `sys.excepthook` is Python's default; a
library that replaces the hook (pyqtgraph does, as a side effect of its import) would keep
the window alive only by accident. The studio installs this hook itself, after its imports:

- the full traceback goes to a log file (`log_path()`), never to the terminal, so a user
  running from a shell sees no Python traceback;
- a non-modal message box says what failed in one line, with the details (the traceback)
  selectable and copyable under "Show Details…"; while it is open, further errors are only
  logged, and the same error (same place, same type) is never shown twice in a session, so
  an error raised on every playback tick is one message, not thousands;
- the window keeps running.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PyQt6.QtCore import QObject, QStandardPaths, pyqtSignal
from PyQt6.QtWidgets import QApplication, QMessageBox

LOG_NAME = "studio-errors.log"
LOG_LIMIT = 1_000_000  # bytes: an old log is started afresh past this


def log_path() -> Path:
    where = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(where or Path.home() / ".descent-studio") / LOG_NAME


def _signature(kind: type[BaseException], tb: TracebackType | None) -> tuple[str, ...]:
    """Where an error was raised and what it was: equal for the same fault raised again."""
    frames = traceback.extract_tb(tb)
    last = frames[-1] if frames else None
    return (kind.__qualname__, last.filename if last else "", str(last.lineno if last else ""))


class _Relay(QObject):
    """Carries an error from any thread to the GUI thread, where the message box lives."""

    raised = pyqtSignal(str, str)


class CrashReporter:
    def __init__(self, show: Callable[[str, str], None] | None = None) -> None:
        self._seen: set[tuple[str, ...]] = set()
        self._box: QMessageBox | None = None
        self._relay = _Relay()
        self._relay.raised.connect(show or self._show)
        self.shown = 0

    def hook(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        details = "".join(traceback.format_exception(kind, error, tb))
        self._log(details)
        signature = _signature(kind, tb)
        if signature in self._seen:
            return
        self._seen.add(signature)
        summary = f"{kind.__name__}: {error}".splitlines()[0][:300]
        self._relay.raised.emit(summary, details)

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.hook(args.exc_type, args.exc_value, args.exc_traceback)

    def _log(self, details: str) -> None:
        path = log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = "w" if path.exists() and path.stat().st_size > LOG_LIMIT else "a"
            with path.open(mode, encoding="utf-8", errors="replace") as log:
                log.write(details + "\n")
        except OSError:
            pass  # a log that cannot be written must not raise inside the hook

    def _show(self, summary: str, details: str) -> None:
        if self._box is not None and self._box.isVisible():
            return
        self.shown += 1
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Descent Studio: unexpected error",
            "Something went wrong, and the studio carried on.\n\n"
            f"{summary}\n\nThe details are in {log_path()}; please include them "
            "if you report this.",
            QMessageBox.StandardButton.Ok,
            QApplication.activeWindow(),
        )
        box.setDetailedText(details)
        box.setModal(False)
        box.show()
        self._box = box


_REPORTER: CrashReporter | None = None


def install() -> CrashReporter:
    """Own `sys.excepthook` and `threading.excepthook` (call after pyqtgraph is imported)."""
    global _REPORTER
    if _REPORTER is None:
        _REPORTER = CrashReporter()
    sys.excepthook = _REPORTER.hook
    threading.excepthook = _REPORTER.thread_hook
    return _REPORTER
