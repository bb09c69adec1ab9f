"""What every frame writer shares: the error type, frame checks and the atomic temp file.

A writer never touches the target path until the clip is complete: frames go to a hidden
temporary file beside the target (same directory, so the final `os.replace` is an atomic
rename on one file system) and `close()` renames it into place. `abort()`, or any error,
deletes the temporary file, so a cancelled or failed export leaves no half file behind.

A process killed outright (SIGKILL, a power cut) cannot clean up, so every temporary file
and scratch folder is named with a recognisable prefix and the writing process's id
(`.studio-tmp-<pid>-clip.<random>.mp4`); the next export into the same folder deletes those
whose process is gone (`remove_stale`).

Each writer class also says what the front ends need to offer its format (label, suffix,
still or animated, even sides, default rate and size): the export dialog and `studio
render` read these, so a format is described in one place.
"""

from __future__ import annotations

import os
import re
import shutil
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


TEMP_PREFIX = ".studio-tmp-"  # hidden files beside the target
SCRATCH_PREFIX = "studio-gif-"  # scratch folders in the system's temporary folder


def temp_prefix(prefix: str) -> str:
    """`prefix` with this process's id, as `remove_stale` recognises it."""
    return f"{prefix}{os.getpid()}-"


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (where that cannot be known safely: assume it does)."""
    if os.name != "posix":
        return True  # on Windows os.kill(pid, 0) would terminate the process
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but is someone else's
    return True


def remove_stale(folder: str | os.PathLike[str], prefix: str) -> list[Path]:
    """Delete entries of `folder` named `<prefix><pid>-…` whose process is gone (left by a
    killed export); the paths removed. Errors are ignored: cleaning is a courtesy."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)-")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or pid_alive(int(match.group(1))):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def check_target(path: str | os.PathLike[str]) -> Path:
    """Refuse a target that can never be written (missing folder, a folder's name) now,
    before a single frame is rendered; the path as a Path."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise ExportError(
            f"cannot write {path}: it is a folder; give a file name "
            f"such as {path / ('clip' + (path.suffix or '.mp4'))}"
        )
    return path


class FrameWriter(ABC):
    """Base of the GIF, MP4 and PNG writers: `write(frame)` each frame, then `close()`.

    Frames are `uint8` arrays shaped `(height, width, 3)` (RGB) matching `size` = (w, h).
    Used as a context manager, a clean exit closes and an exception aborts.
    """

    suffix = ""  # the file name's ending, with the dot
    name = ""  # short, in messages: "MP4"
    label = ""  # what a menu offers: "MP4 (H.264, for slides)"
    animated = True  # False: one picture (the frame at the last step asked for)
    alpha = False  # True: also takes RGBA frames (h, w, 4), keeping their alpha
    even_sides = False  # width and height must be even (an odd size is refused)
    default_fps = 30.0
    default_size = (1280, 720)
    # Frame rates players of the format handle (None: any positive rate).
    fps_range: tuple[float, float] | None = None
    fps_why = ""  # shown when a rate is out of range

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        self.size = self.check_size(size)
        self.fps = self.playback_fps(fps)
        self.frames_written = 0
        self._done = False
        self.tmp_path = self._make_temp()

    @classmethod
    def check_size(cls, size: tuple[int, int]) -> tuple[int, int]:
        """`size` as ints; ExportError if the format cannot hold it (empty, or odd sides
        where the format needs even ones)."""
        w, h = int(size[0]), int(size[1])
        if cls.even_sides and (w % 2 or h % 2):
            raise ExportError(
                f"{cls.name} needs an even width and height, got {w}x{h} "
                f"(try {w + w % 2}x{h + h % 2})"
            )
        if w < 1 or h < 1:
            raise ExportError(f"frame size {w}x{h} is empty")
        return (w, h)

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
                raise ExportError(
                    f"{cls.name} frame rate must be {lo:g} to {hi:g} frames/s{why}, got {fps:g}"
                )
        return fps

    # ------------------------------------------------------------------ temp file

    def _make_temp(self) -> Path:
        """Create the hidden temp file now, so an unwritable folder fails before any render."""
        check_target(self.path)
        folder = self.path.parent
        remove_stale(folder, TEMP_PREFIX)
        try:
            fd, name = tempfile.mkstemp(
                prefix=f"{temp_prefix(TEMP_PREFIX)}{self.path.stem}.",
                suffix=self.suffix,
                dir=folder,
            )
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
        channels = (3, 4) if self.alpha else (3,)
        if (
            frame.dtype != np.uint8
            or frame.shape[:2] != (h, w)
            or frame.ndim != 3
            or frame.shape[2] not in channels
        ):
            raise ExportError(f"frame is {frame.dtype} {frame.shape}, expected uint8 ({h}, {w}, 3)")
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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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

    def _cleanup(self) -> None:  # noqa: B027 - a hook: most writers hold nothing to release
        """Release processes and scratch files; called on abort and on a failed close."""
