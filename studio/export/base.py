"""What every frame writer shares: the error type, frame checks and the atomic temp file.

A writer never touches the target path until the clip is complete: frames go to a hidden
temporary file beside the target (same directory, so the final `os.replace` is an atomic
rename on one file system) and `close()` renames it into place. `abort()`, or any error,
deletes the temporary file, so a cancelled or failed export leaves no half file behind.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np

from studio.errors import StudioError


class ExportError(StudioError):
    """An export that cannot be done or finished (path, disk, encoder); one-line message."""


def os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_target(path: str | os.PathLike[str]) -> Path:
    """Refuse a target that can never be written (missing folder, a folder's name) now,
    before a single frame is rendered; the path as a Path."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder; give a file name "
                          f"such as {path / ('clip' + (path.suffix or '.mp4'))}")
    return path


class FrameWriter(ABC):
    """Base of the GIF, MP4 and PNG writers: `write(frame)` each frame, then `close()`.

    Frames are `uint8` arrays shaped `(height, width, 3)` (RGB) matching `size` = (w, h).
    Used as a context manager, a clean exit closes and an exception aborts.
    """

    suffix = ""
    name = ""
    # Frame rates players of the format handle (None: any positive rate).
    fps_range: tuple[float, float] | None = None
    fps_why = ""  # shown when a rate is out of range

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        self.fps = self.playback_fps(fps)
        self.size = (int(size[0]), int(size[1]))
        if self.size[0] < 1 or self.size[1] < 1:
            raise ExportError(f"frame size {self.size[0]}x{self.size[1]} is empty")
        self.frames_written = 0
        self._done = False
        self.tmp_path = self._make_temp()

    @classmethod
    def playback_fps(cls, fps: float) -> float:
        """The rate the file will play at for a requested `fps`; ExportError if the format's
        players cannot handle it. (GIF rounds to whole hundredths of a second per frame.)"""
        fps = float(fps)
        if not fps > 0:  # also NaN
            raise ExportError(f"frame rate must be positive, got {fps:g}")
        if cls.fps_range is not None:
            lo, hi = cls.fps_range
            if not lo <= fps <= hi:
                why = f" ({cls.fps_why})" if cls.fps_why else ""
                raise ExportError(f"{cls.name} frame rate must be {lo:g} to {hi:g} frames/s"
                                  f"{why}, got {fps:g}")
        return fps

    # ------------------------------------------------------------------ temp file

    def _make_temp(self) -> Path:
        """Create the hidden temp file now, so an unwritable folder fails before any render."""
        check_target(self.path)
        folder = self.path.parent
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.suffix,
                                        dir=folder)
        except OSError as exc:
            raise ExportError(f"cannot write {self.path}: {os_reason(exc)}") from None
        os.close(fd)
        return Path(name)

    def _commit(self) -> None:
        try:
            # mkstemp makes the file 0600; an exported clip should have ordinary permissions.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp_path, 0o666 & ~umask)
            os.replace(self.tmp_path, self.path)
        except OSError as exc:
            self._discard()
            raise ExportError(f"cannot write {self.path}: {os_reason(exc)}") from None

    def _discard(self) -> None:
        self.tmp_path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ frames

    def check_frame(self, frame: np.ndarray) -> np.ndarray:
        w, h = self.size
        if frame.dtype != np.uint8 or frame.shape != (h, w, 3):
            raise ExportError(f"frame is {frame.dtype} {frame.shape}, expected uint8 "
                              f"({h}, {w}, 3)")
        return np.ascontiguousarray(frame)

    def write(self, frame: np.ndarray) -> None:
        if self._done:
            raise ExportError("write after close or abort")
        self._write(self.check_frame(frame))
        self.frames_written += 1

    def close(self) -> None:
        """Finish encoding and move the file into place; raises ExportError on failure."""
        if self._done:
            return
        self._done = True
        try:
            if self.frames_written == 0:
                raise ExportError(f"no frames to write to {self.path}")
            self._finish()
        except BaseException:
            self._cleanup()
            self._discard()
            raise
        self._commit()

    def abort(self) -> None:
        """Stop at once and delete everything written so far. Safe to call twice."""
        if self._done:
            return
        self._done = True
        try:
            self._cleanup()
        finally:
            self._discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # ------------------------------------------------------------------ per format

    @abstractmethod
    def _write(self, frame: np.ndarray) -> None:
        """Append one checked frame to the temp file."""

    @abstractmethod
    def _finish(self) -> None:
        """Complete the temp file (the base class renames it afterwards)."""

    def _cleanup(self) -> None:
        """Release processes and scratch files; called on abort and on a failed close."""
