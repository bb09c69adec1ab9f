"""GIF with one palette for the whole clip, streamed (never the whole clip in memory).

A per-frame palette makes colours shimmer from frame to frame and defeats GIF's
inter-frame compression; one global palette from ffmpeg's `palettegen` fixes both. That
palette needs every frame before the first can be quantised, so the clip is encoded twice:

1. while rendering, ffmpeg keeps a lossless copy in a scratch file: H.264 in RGB at QP 0
   (`libx264rgb`, bit-exact). On flat-coloured plots it is 6× smaller than FFV1 and about
   4× cheaper to encode, so the renderer keeps the second core, and the feeder is paced
   by the encoder's progress (studio.export.ffmpeg), so ffmpeg's memory stays flat;
2. on close, `palettegen` reads the copy back for one palette (a colour histogram:
   constant memory, about a second for 120 frames at 1080p), then `paletteuse` maps the
   copy onto it and writes the GIF.

Ordered (Bayer) dithering is stable from frame to frame (error diffusion "crawls" on a
still background and bloats the file), and `diff_mode=rectangle` only re-dithers the part
of each frame that changed. `-loop 0` loops for ever, as a slide expects.

Timing: a GIF frame lasts a whole number of hundredths of a second, and browsers stretch
delays under 2 hundredths to 10. So the rate is at most 50 frames/s, and every frame gets
the same delay, round(100 / fps) hundredths: 30 frames/s plays at 33.3 (3 hundredths
each) rather than alternating 3, 3, 4 hundredths, which judders. `playback_fps` tells the
caller the rate the file will really play at, so a clip's length can be planned with it.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from studio.export.base import (
    SCRATCH_PREFIX,
    ExportError,
    FrameWriter,
    os_reason,
    remove_stale,
    temp_prefix,
)
from studio.export.ffmpeg import FfmpegPipe, run_ffmpeg

FPS_RANGE = (1.0, 50.0)
PALETTE_FILTER = "palettegen=max_colors=256:stats_mode=full"
USE_FILTER = "[0:v][1:v]paletteuse=dither=bayer:bayer_scale=3:diff_mode=rectangle"
LOSSLESS = ["-c:v", "libx264rgb", "-qp", "0", "-preset", "ultrafast", "-threads", "1"]


def delay_hundredths(fps: float) -> int:
    """Each frame's delay in a GIF at `fps`: whole hundredths of a second, at least 2."""
    return max(2, math.floor(100 / fps + 0.5))  # halves up: round() goes to even


class GifWriter(FrameWriter):
    suffix = ".gif"
    name = "GIF"
    label = "GIF"
    default_fps = 25.0  # 4 hundredths a frame: plays at exactly the rate asked
    default_size = (800, 450)  # a GIF's size grows with its area; small enough to embed
    fps_range = FPS_RANGE
    fps_why = "browsers slow faster GIFs down"

    @classmethod
    def playback_fps(cls, fps: float) -> float:
        return 100 / delay_hundredths(super().playback_fps(fps))

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        super().__init__(path, fps, size)
        self.delay = delay_hundredths(self.fps)
        try:
            remove_stale(tempfile.gettempdir(), SCRATCH_PREFIX)
            self._scratch = Path(tempfile.mkdtemp(prefix=temp_prefix(SCRATCH_PREFIX)))
        except OSError as exc:
            self._discard()
            raise ExportError(f"cannot make a scratch folder: {os_reason(exc)}") from None
        self._palette = self._scratch / "palette.png"
        self._lossless = self._scratch / "frames.mkv"
        try:
            self._pipe = FfmpegPipe(
                [*LOSSLESS, str(self._lossless)], self.size, self.fps, f"cannot write {self.path}"
            )
        except ExportError:
            self._cleanup()
            self._discard()
            raise

    def _write(self, frame: np.ndarray) -> None:
        self._pipe.write(frame.tobytes())

    def _finish(self) -> None:
        self._pipe.finish()
        run_ffmpeg(
            [
                "-i",
                str(self._lossless),
                "-vf",
                PALETTE_FILTER,
                "-frames:v",
                "1",
                "-update",
                "1",
                str(self._palette),
            ],
            f"cannot write {self.path}",
        )
        # Frame n at n × delay hundredths exactly (the scratch file counts milliseconds,
        # which would round 33.3 ms to 33 and 34 and so the delays to 3 and 4).
        timing = f"settb=1/100,setpts=N*{self.delay}"
        run_ffmpeg(
            [
                "-i",
                str(self._lossless),
                "-i",
                str(self._palette),
                "-lavfi",
                f"{USE_FILTER},{timing}",
                "-loop",
                "0",
                "-f",
                "gif",
                str(self.tmp_path),
            ],
            f"cannot write {self.path}",
        )
        self._remove_scratch()

    def _cleanup(self) -> None:
        pipe = getattr(self, "_pipe", None)
        if pipe is not None:
            pipe.kill()
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
