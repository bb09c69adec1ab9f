"""Feed raw RGB frames to an ffmpeg subprocess from a writer thread with a bounded queue.

ffmpeg encodes in its own process, so rendering (our process, often the GUI thread) and
encoding overlap on two cores. Writing to the pipe directly would block the render loop
whenever ffmpeg is busy; the feeder thread absorbs that, and the queue bound keeps memory
flat (a few frames, never the clip). stderr goes to a temp file rather than a pipe: nobody
has to read it concurrently, and its last line is the one-line reason when ffmpeg fails.
"""

from __future__ import annotations

import queue
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from typing import IO

from studio.export.base import ExportError

QUEUE_FRAMES = 6  # 6 × 1080p RGB ≈ 37 MB at most in flight
FFMPEG_HINT = ("ffmpeg not found: reinstall imageio-ffmpeg (pip install imageio-ffmpeg) or "
               "set IMAGEIO_FFMPEG_EXE to an ffmpeg binary")


def ffmpeg_exe() -> str:
    """The ffmpeg binary bundled with imageio-ffmpeg (or IMAGEIO_FFMPEG_EXE)."""
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise ExportError(FFMPEG_HINT) from None


def run_ffmpeg(args: Sequence[str], what: str) -> None:
    """Run ffmpeg to completion (no stdin); ExportError with ffmpeg's reason on failure."""
    with tempfile.TemporaryFile() as log:
        try:
            code = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel",
                                   "error", "-y", *args], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=log, check=False).returncode
        except OSError:
            raise ExportError(FFMPEG_HINT) from None
        if code != 0:
            raise ExportError(f"{what}: {_last_line(log)}")


def _last_line(log: IO[bytes]) -> str:
    if log.closed:
        return "ffmpeg failed"
    log.seek(0)
    lines = [ln.strip() for ln in log.read().decode("utf-8", "replace").splitlines()
             if ln.strip()]
    if not lines:
        return "ffmpeg failed"
    # ffmpeg's final "Conversion failed!" says nothing; the line before names the cause.
    useful = [ln for ln in lines if not ln.startswith("Conversion failed")]
    return (useful or lines)[-1]


class FfmpegPipe:
    """An ffmpeg process reading rgb24 frames of `size` at `fps` from stdin."""

    def __init__(self, output_args: Sequence[str], size: tuple[int, int], fps: float,
                 what: str) -> None:
        self.what = what
        w, h = size
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate",
               f"{fps:g}", "-i", "pipe:0", *output_args]
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=self._log)
        except OSError:
            self._log.close()
            raise ExportError(FFMPEG_HINT) from None
        self._queue: queue.Queue[bytes | memoryview | None] = queue.Queue(QUEUE_FRAMES)
        self._broken = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._feed, name="ffmpeg-feed", daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        while True:
            item = self._queue.get()
            if item is None:
                break
            if self._broken.is_set():
                continue  # keep draining so a producer blocked on put() wakes up
            try:
                stdin.write(item)
            except (BrokenPipeError, OSError, ValueError):
                self._broken.set()
        try:
            stdin.close()
        except (BrokenPipeError, OSError):
            self._broken.set()

    def write(self, data: bytes | memoryview) -> None:
        if self._broken.is_set():
            self._raise_failure()
        self._queue.put(data)

    def finish(self) -> None:
        """Send end of stream, wait for ffmpeg; ExportError if it failed."""
        self._queue.put(None)
        self._thread.join()
        code = self._proc.wait()
        if code != 0 or self._broken.is_set():
            self._raise_failure()
        self._log.close()

    def kill(self) -> None:
        """Stop ffmpeg now (cancel); returns within a fraction of a second."""
        self._broken.set()
        if self._proc.poll() is None:
            self._proc.kill()
        while True:  # unblock the feeder: empty the queue, then hand it the stop marker
            try:
                self._queue.put_nowait(None)
                break
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
        self._thread.join(timeout=2)
        self._proc.wait()
        self._log.close()

    def _raise_failure(self) -> None:
        code = self._proc.wait()
        reason = _last_line(self._log)
        self._log.close()
        raise ExportError(f"{self.what}: {reason} (ffmpeg exit status {code})")
