"""The one frame loop: render → write → progress → cancel, for `studio render` and the GUI.

The loop knows nothing of how a frame is drawn: it takes a frame source (`render(i)` →
uint8 (h, w, 3) RGB) and a `FrameWriter`. `studio render` runs it to the end (`run`); the
GUI advances it in time-boxed slices from a timer, so the window stays live between them
(`advance(deadline)`), and finishes the file on a thread (`close`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from studio.export.base import ExportError, FrameWriter

FrameSource = Callable[[int], np.ndarray]
ProgressCallback = Callable[[int, int], None]  # frames done, frames in all


class ExportCancelled(ExportError):
    """The user cancelled; nothing was written."""


class FrameLoop:
    """Frames 0 … total-1 from `render` into `writer`. Before each frame a set `cancel`
    raises ExportCancelled; after each, `progress(done, total)`. The loop never closes or
    aborts the writer by itself except in `run`: a caller that advances it owns the end."""

    def __init__(
        self,
        render: FrameSource,
        total: int,
        writer: FrameWriter,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.render = render
        self.total = total
        self.writer = writer
        self.progress = progress
        self.cancel = cancel
        self.done = 0

    @property
    def rendered(self) -> bool:
        """Every frame is written; what is left is completing the file."""
        return self.done >= self.total

    def advance(self, deadline: float | None = None) -> bool:
        """Render and write frames until all are written or `time.monotonic()` passes
        `deadline` (at least one frame per call); True once every frame is written."""
        while self.done < self.total:
            if self.cancel is not None and self.cancel.is_set():
                raise ExportCancelled("export cancelled")
            self.writer.write(self.render(self.done))
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)
            if deadline is not None and time.monotonic() >= deadline:
                break
        return self.rendered

    def close(self) -> None:
        """Complete the file and move it into place (ExportError on failure)."""
        self.writer.close()

    def abort(self) -> None:
        """Stop and delete everything written so far; safe to call twice."""
        self.writer.abort()

    def run(self) -> None:
        """Every frame, then the file; on any exception (a cancel too) nothing is left."""
        try:
            self.advance()
            self.close()
        except BaseException:
            self.abort()
            raise


__all__ = ["ExportCancelled", "FrameLoop", "FrameSource", "ProgressCallback"]
