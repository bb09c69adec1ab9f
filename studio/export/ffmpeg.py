"""Feed raw RGB frames to an ffmpeg subprocess from a writer thread with a bounded queue.

ffmpeg encodes in its own process, so rendering (our process, often the GUI thread) and
encoding overlap on two cores. Writing to the pipe directly would block the render loop
whenever ffmpeg is busy; the feeder thread absorbs that, and the queue bound keeps memory
flat (a few frames, never the clip), and the feeder waits for ffmpeg's progress report
so ffmpeg's own queues stay short too (AHEAD below). stderr is read by a thread into a
bounded buffer in memory (`LogTail`), never into a temporary file: when ffmpeg fails because
the temporary folder is full, a log kept there would lose the very reason; its last line,
without ffmpeg's `[component @ 0x…]` prefix, is the one-line reason when ffmpeg fails.

ffmpeg runs in a session (process group) of its own: a Ctrl+C in the terminal goes to the
terminal's foreground group, and ffmpeg must not die of it before we have decided what to do
(`studio render` stops between frames and removes the temporary file itself).
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Sequence
from fractions import Fraction
from typing import IO, Any

from studio.export.base import ExportError

# Frames waiting for the feeder thread: enough to ride out a hiccup (ffmpeg keeps a few
# frames of its own in its input queue), little memory (2 × 1080p RGB ≈ 12 MB).
QUEUE_FRAMES = 2
# ffmpeg reads its input as fast as we write it, into queues between its demuxer, decoder,
# filters and encoder (8 frames each, not configurable): whenever the encoder falls behind
# (two cores shared with the software-GL renderer) ffmpeg grew by up to ~90 MB at 1080p.
# So the feeder stays at most AHEAD frames ahead of what ffmpeg reports as encoded (its
# `-progress` output, every PROGRESS_S). AHEAD must exceed the encoder's own delay (frames
# it holds before the first comes out: x264's lookahead); were the reports ever to stop,
# the feeder carries on after STALL_S rather than wait for ever.
AHEAD = 12
PROGRESS_S = 0.05
STALL_S = 1.0
FFMPEG_HINT = (
    "ffmpeg not found: reinstall imageio-ffmpeg (pip install imageio-ffmpeg) or "
    "set IMAGEIO_FFMPEG_EXE to an ffmpeg binary"
)


def ffmpeg_exe() -> str:
    """The ffmpeg binary bundled with imageio-ffmpeg (or IMAGEIO_FFMPEG_EXE)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise ExportError(FFMPEG_HINT) from None


@functools.cache
def _can_pace(exe: str) -> bool:
    """`-stats_period` (ffmpeg 4.4+) is needed for timely progress; a system ffmpeg set in
    IMAGEIO_FFMPEG_EXE may be older (unrecognised versions, git builds, are taken as new)."""
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-version"],
            capture_output=True,
            check=False,
            timeout=10,
            **_own_group(),
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    m = re.match(rb"ffmpeg version n?(\d+)\.(\d+)", out)
    return m is None or (int(m.group(1)), int(m.group(2))) >= (4, 4)


def _own_group() -> dict[str, Any]:
    """Popen arguments that keep a terminal's Ctrl+C away from ffmpeg."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def run_ffmpeg(args: Sequence[str], what: str) -> None:
    """Run ffmpeg to completion (no stdin); ExportError with ffmpeg's reason on failure."""
    try:
        proc = subprocess.Popen(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            **_own_group(),
        )
    except OSError:
        raise ExportError(FFMPEG_HINT) from None
    assert proc.stderr is not None
    log = LogTail(proc.stderr)
    try:
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        log.close()
    if code != 0:
        raise ExportError(f"{what}: {_last_line(log.text()) or f'ffmpeg exit status {code}'}")


# What is kept of ffmpeg's stderr: at `-loglevel error` its failure is a few short lines at
# the end, and a misbehaving run that prints without end cannot grow the studio's memory.
LOG_TAIL_BYTES = 64 * 1024


class LogTail:
    """A child's stderr, drained by a thread (so the child never blocks on a full pipe) into
    memory, of which only the last LOG_TAIL_BYTES are kept."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._data = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, name="ffmpeg-log", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        fd = self._stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._data += chunk
                if len(self._data) > 2 * LOG_TAIL_BYTES:  # trim in batches, not per read
                    del self._data[:-LOG_TAIL_BYTES]

    def text(self) -> str:
        """What the child has written so far (its end), once it has exited: all of it."""
        self._thread.join(timeout=2)
        with self._lock:
            return bytes(self._data[-LOG_TAIL_BYTES:]).decode("utf-8", "replace")

    def close(self) -> None:
        self._thread.join(timeout=2)
        if not self._thread.is_alive():
            self._stream.close()


_CONTEXT = re.compile(r"^(?:\[[^\]]*@ ?0x[0-9a-fA-F]+\]\s*)+")  # [out#0/gif @ 0x55…]


def clean_reason(line: str) -> str:
    """One ffmpeg log line as a user reads it: without ffmpeg's `[component @ 0x…]`
    prefixes, starting in lower case after our "cannot write …:"."""
    text = _CONTEXT.sub("", line.strip()).strip()
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _last_line(log: str) -> str:
    """ffmpeg's reason for failing, one clean line, or "" when it said nothing."""
    lines = [clean_reason(ln) for ln in log.splitlines()]
    lines = [ln for ln in lines if ln]
    # ffmpeg's final "Conversion failed!" says nothing; the line before names the cause.
    useful = [ln for ln in lines if not ln.lower().startswith("conversion failed")]
    return (useful or lines or [""])[-1]


def rate_text(fps: float) -> str:
    """A frame rate as ffmpeg reads it, exactly where it is a simple fraction (100/3)."""
    rate = Fraction(fps).limit_denominator(1001)
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


class FfmpegPipe:
    """An ffmpeg process reading rgb24 frames of `size` at `fps` from stdin, writing one
    output (ffmpeg reports no progress until every output has started)."""

    def __init__(
        self, output_args: Sequence[str], size: tuple[int, int], fps: float, what: str
    ) -> None:
        self.what = what
        w, h = size
        exe = ffmpeg_exe()
        paced = _can_pace(exe)
        progress = ["-progress", "pipe:1", "-stats_period", f"{PROGRESS_S:g}"] if paced else []
        cmd = [
            exe,
            "-hide_banner",
            "-nostats",
            "-loglevel",
            "error",
            "-y",
            *progress,
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{w}x{h}",
            "-framerate",
            rate_text(fps),
            "-i",
            "pipe:0",
            *output_args,
        ]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE if paced else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                **_own_group(),
            )
        except OSError:
            raise ExportError(FFMPEG_HINT) from None
        assert self._proc.stderr is not None
        self._log = LogTail(self._proc.stderr)
        self._queue: queue.Queue[bytes | memoryview | None] = queue.Queue(QUEUE_FRAMES)
        self._broken = threading.Event()
        # Frames ffmpeg says it has encoded (guarded by _progress); unpaced: never waited for.
        self._encoded = 0 if paced else 1 << 62
        self._progress = threading.Condition()
        self._reader = threading.Thread(
            target=self._read_progress, name="ffmpeg-progress", daemon=True
        )
        self._reader.start()
        self._thread = threading.Thread(target=self._feed, name="ffmpeg-feed", daemon=True)
        self._thread.start()

    def _read_progress(self) -> None:
        stdout = self._proc.stdout
        if stdout is None:  # not paced
            return
        for line in stdout:
            if line.startswith(b"frame="):
                try:
                    count = int(line[6:])
                except ValueError:
                    continue
                with self._progress:
                    self._encoded = count
                    self._progress.notify_all()
        with self._progress:  # ffmpeg has gone: nothing to wait for any more
            self._encoded = 1 << 62
            self._progress.notify_all()
        stdout.close()

    def _wait_for_encoder(self, sent: int) -> None:
        with self._progress:
            self._progress.wait_for(
                lambda: sent - self._encoded < AHEAD or self._broken.is_set(), STALL_S
            )

    def _feed(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        sent = 0
        while True:
            item = self._queue.get()
            if item is None:
                break
            if self._broken.is_set():
                continue  # keep draining so a producer blocked on put() wakes up
            self._wait_for_encoder(sent)
            try:
                stdin.write(item)
                sent += 1
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
        self._reader.join()
        if code != 0 or self._broken.is_set():
            self._raise_failure()
        self._log.close()

    def kill(self) -> None:
        """Stop ffmpeg now (cancel); returns within a fraction of a second."""
        self._broken.set()
        with self._progress:
            self._progress.notify_all()
        if self._proc.poll() is None:
            self._proc.kill()
        while True:  # unblock the feeder: empty the queue, then hand it the stop marker
            try:
                self._queue.put_nowait(None)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
        self._thread.join(timeout=2)
        self._proc.wait()
        self._reader.join(timeout=2)
        self._log.close()

    def _raise_failure(self) -> None:
        code = self._proc.wait()
        self._reader.join(timeout=2)
        reason = _last_line(self._log.text())
        self._log.close()
        if not reason:
            reason = (
                f"ffmpeg stopped (exit status {code})"
                if code != 0
                else "ffmpeg stopped reading frames"
            )
        raise ExportError(f"{self.what}: {reason}")
