"""MP4 (H.264) that slide software accepts: libx264, yuv420p, even sides, +faststart.

yuv420p is the only chroma layout PowerPoint, Keynote, QuickTime and every browser decode;
it halves the chroma resolution, so width and height must be even. We refuse an odd size
instead of resizing (a silent resize would blur the crisp 1080p text). `+faststart` moves
the index to the front so a browser or a slide can start playing before the whole file is
read. CRF 18 is visually lossless for flat-coloured plots; `veryfast` keeps the encoder
ahead of the software-GL renderer on two cores at a small size cost.
"""

from __future__ import annotations

import os

import numpy as np

from studio.export.base import ExportError, FrameWriter
from studio.export.ffmpeg import FfmpegPipe

CRF = 18
PRESET = "veryfast"


class Mp4Writer(FrameWriter):
    suffix = ".mp4"

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        w, h = int(size[0]), int(size[1])
        if w % 2 or h % 2:
            raise ExportError(f"MP4 needs an even width and height, got {w}x{h} "
                              f"(try {w + w % 2}x{h + h % 2})")
        super().__init__(path, fps, size)
        try:
            self._pipe = FfmpegPipe(
                ["-an", "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF),
                 "-pix_fmt", "yuv420p", "-profile:v", "high", "-tune", "animation",
                 "-movflags", "+faststart", "-f", "mp4", str(self.tmp_path)],
                self.size, self.fps, f"cannot write {self.path}")
        except ExportError:
            self._discard()
            raise

    def _write(self, frame: np.ndarray) -> None:
        self._pipe.write(frame.tobytes())

    def _finish(self) -> None:
        self._pipe.finish()

    def _cleanup(self) -> None:
        self._pipe.kill()
