"""MP4 (H.264) that slide software accepts: libx264, yuv420p, even sides, +faststart.

yuv420p is the only chroma layout PowerPoint, Keynote, QuickTime and every browser decode;
it halves the chroma resolution, so width and height must be even. We refuse an odd size
instead of resizing (a silent resize would blur the crisp 1080p text). `+faststart` moves
the index to the front so a browser or a slide can start playing before the whole file is
read. CRF 18 is visually lossless for flat-coloured plots; `veryfast` keeps the encoder
ahead of the software-GL renderer on two cores at a small size cost.

Colour: RGB becomes Y'CbCr with the BT.709 matrix in limited ("tv") range, and the stream
says so (matrix, primaries and transfer all BT.709). Browsers and QuickTime decode untagged
HD video as BT.709; swscale's default BT.601 matrix left untagged shifted every colour
(greens by about 13 levels). BT.709 is also what sRGB screens' primaries are.

Memory (a 120-frame 1080p export peaked at 578 MB, half of it ffmpeg): x264 keeps every
frame in flight as full planes plus half-pel and lowres copies, about 8 MB each at 1080p.
So: one thread (frame threading on two cores held frames per thread; one thread still
encodes 1080p at about 50 frames/s, well ahead of the renderer, and leaves the second core
to Mesa's software rasteriser), a 5-frame lookahead (10 for `veryfast`) and no B-frames
(`-tune animation` asks for 5). ffmpeg then peaks near 150 MB instead of 300. On the
default scene the file is 10-20 % larger (250 kB for 4 s of 1080p) and PSNR against the
frames within 0.5 dB (43.9 against 44.3): no difference a slide shows. The feeder is paced
by the encoder (studio.export.ffmpeg), so ffmpeg's queues do not grow either.
"""

from __future__ import annotations

import os

import numpy as np

from studio.export.base import ExportError, FrameWriter
from studio.export.ffmpeg import FfmpegPipe

CRF = 18
PRESET = "veryfast"
FPS_RANGE = (1.0, 120.0)  # what browsers, PowerPoint and Keynote play smoothly
BT709 = "colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
X264_MEMORY = "rc-lookahead=5:bframes=0"  # see "Memory" above
COLOUR_FILTER = f"scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,setparams={BT709}"


class Mp4Writer(FrameWriter):
    suffix = ".mp4"
    name = "MP4"
    label = "MP4 (H.264, for slides)"
    even_sides = True  # yuv420p halves the chroma resolution
    fps_range = FPS_RANGE
    fps_why = "what browsers and slide software play"

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        super().__init__(path, fps, size)
        try:
            self._pipe = FfmpegPipe(
                [
                    "-an",
                    "-vf",
                    COLOUR_FILTER,
                    "-c:v",
                    "libx264",
                    "-preset",
                    PRESET,
                    "-crf",
                    str(CRF),
                    "-profile:v",
                    "high",
                    "-tune",
                    "animation",
                    "-threads",
                    "1",
                    "-x264-params",
                    X264_MEMORY,
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                    str(self.tmp_path),
                ],
                self.size,
                self.fps,
                f"cannot write {self.path}",
            )
        except ExportError:
            self._discard()
            raise

    def _write(self, frame: np.ndarray) -> None:
        self._pipe.write(frame.tobytes())

    def _finish(self) -> None:
        self._pipe.finish()

    def _cleanup(self) -> None:
        self._pipe.kill()
