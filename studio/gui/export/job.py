"""Run an export from the GUI without freezing it.

OpenGL must draw on the GUI thread (Qt GL widgets), so frames are rendered there, in
time-boxed slices driven by a zero-interval QTimer: each event-loop turn advances the frame
loop (studio.export.frames, the same one `studio render` runs) for at most SLICE_MS, then
lets Qt repaint the window and handle the Cancel button. Encoding runs in the ffmpeg
process, fed by the writer's own thread, so it overlaps with rendering.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from studio.errors import StudioError
from studio.export import check_target, format_of, open_writer
from studio.export.frames import FrameLoop
from studio.export.options import RenderOptions
from studio.gui.export.renderer import OffscreenRenderer
from studio.scene import Scene

SLICE_MS = 60  # long enough to amortise the event loop, short enough to feel live


class ExportJob(QObject):
    """`start()`, then one of `finished(path)`, `failed(message)` or `cancelled()`."""

    progress = pyqtSignal(int, int)  # frames done, frames in all
    finished = pyqtSignal(object)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()
    finishing = pyqtSignal()  # every frame rendered; the encoder is completing the file

    def __init__(
        self, scene: Scene, path: Path, options: RenderOptions, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.scene, self.path, self.options = scene, Path(path), options
        self.total = 0
        self.running = False
        self._renderer: OffscreenRenderer | None = None
        self._loop: FrameLoop | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._slice)

    def start(self) -> bool:
        """Build the renderer and open the file; False (and `failed`) if either fails."""
        try:
            fmt = format_of(self.path)
            check_target(self.path)  # before the renderer: a bad path fails at once
            self._renderer = OffscreenRenderer(self.scene, self.options)
            self.total = self._renderer.n_frames
            writer = open_writer(self.path, self.options.fps, self.options.size, fmt)
            self._loop = FrameLoop(self._renderer.render, self.total, writer)
        except StudioError as exc:
            self._release()
            self.failed.emit(str(exc))
            return False
        self.running = True
        self.progress.emit(0, self.total)
        self._timer.start()
        return True

    def cancel(self) -> None:
        """Stop now and delete the partial file (the target is never touched). Once every
        frame is rendered the file is being completed and cancel no longer applies."""
        if not self.running or not self._timer.isActive():
            return
        self._stop()
        self._abort()
        self.cancelled.emit()

    @property
    def done(self) -> int:
        """Frames rendered and handed to the encoder so far."""
        return self._loop.done if self._loop is not None else 0

    def _slice(self) -> None:
        loop = self._loop
        assert loop is not None
        try:
            rendered = loop.advance(time.monotonic() + SLICE_MS / 1000)
            self.progress.emit(loop.done, self.total)
            if not rendered:
                return
        except StudioError as exc:
            self._stop()
            self._abort()
            self.failed.emit(str(exc))
            return
        except BaseException:
            self._stop()
            self._abort()
            raise
        self._finish()

    def _abort(self) -> None:
        if self._loop is not None:
            self._loop.abort()
        self._release()

    def _finish(self) -> None:
        """Close the writer on a thread (a GIF's palette pass takes a moment), keep the
        GUI live meanwhile, and report on the GUI thread."""
        self._timer.stop()
        self._release()
        self.finishing.emit()
        outcome: list[str | None] = []

        loop = self._loop
        assert loop is not None

        def close() -> None:
            try:
                loop.close()
                outcome.append(None)
            except StudioError as exc:
                outcome.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug: report it, never hang the dialog
                outcome.append(f"internal error: {type(exc).__name__}: {exc}")

        worker = threading.Thread(target=close, name="export-close", daemon=True)
        worker.start()
        poll = QTimer(self)
        poll.setInterval(30)

        def check() -> None:
            if worker.is_alive():
                return
            poll.stop()
            poll.deleteLater()
            self.running = False
            if outcome and outcome[0] is None:
                self.finished.emit(self.path)
            else:
                self.failed.emit(outcome[0] if outcome else "export failed")

        poll.timeout.connect(check)
        poll.start()

    def _stop(self) -> None:
        self._timer.stop()
        self.running = False

    def _release(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
