"""GIF with one palette for the whole clip, streamed (never the whole clip in memory).

A per-frame palette makes colours shimmer from frame to frame and defeats GIF's
inter-frame compression; one global palette from ffmpeg's `palettegen` fixes both. That
palette needs every frame before the first can be quantised, so the clip is encoded twice:

1. while rendering, ffmpeg splits the stream: `palettegen` accumulates a colour histogram
   (constant memory) and a lossless FFV1 copy goes to a scratch file;
2. on close, `paletteuse` maps the scratch copy onto the palette and writes the GIF.

Ordered (Bayer) dithering is stable from frame to frame (error diffusion "crawls" on a
still background and bloats the file), and `diff_mode=rectangle` only re-dithers the part
of each frame that changed. `-loop 0` loops for ever, as a slide expects.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from studio.export.base import ExportError, FrameWriter, os_reason
from studio.export.ffmpeg import FfmpegPipe, run_ffmpeg

PALETTE_FILTER = "[0:v]split[keep][scan];[scan]palettegen=max_colors=256:stats_mode=full[pal]"
USE_FILTER = "[0:v][1:v]paletteuse=dither=bayer:bayer_scale=3:diff_mode=rectangle"


class GifWriter(FrameWriter):
    suffix = ".gif"

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        super().__init__(path, fps, size)
        try:
            self._scratch = Path(tempfile.mkdtemp(prefix="studio-gif-"))
        except OSError as exc:
            self._discard()
            raise ExportError(f"cannot make a scratch folder: {os_reason(exc)}") from None
        self._palette = self._scratch / "palette.png"
        self._lossless = self._scratch / "frames.mkv"
        try:
            self._pipe = FfmpegPipe(
                ["-filter_complex", PALETTE_FILTER,
                 "-map", "[pal]", "-frames:v", "1", "-update", "1", str(self._palette),
                 "-map", "[keep]", "-c:v", "ffv1", "-level", "3", "-g", "1",
                 str(self._lossless)],
                self.size, self.fps, f"cannot write {self.path}")
        except ExportError:
            self._cleanup()
            self._discard()
            raise

    def _write(self, frame: np.ndarray) -> None:
        self._pipe.write(frame.tobytes())

    def _finish(self) -> None:
        self._pipe.finish()
        run_ffmpeg(["-i", str(self._lossless), "-i", str(self._palette),
                    "-lavfi", USE_FILTER, "-loop", "0", "-f", "gif", str(self.tmp_path)],
                   f"cannot write {self.path}")
        self._remove_scratch()

    def _cleanup(self) -> None:
        pipe = getattr(self, "_pipe", None)
        if pipe is not None:
            pipe.kill()
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)
