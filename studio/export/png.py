"""A single frame as PNG (the "current frame" export): keeps the last frame written.

The file is written here rather than by Pillow: `studio render`'s one-frame PNG is mostly
start-up (docs/architecture.md#start-up), and Pillow's import and its encoder were a large
share of it. Every row gets PNG's Sub filter (the difference to the pixel on its left, one
NumPy subtraction) and the filtered rows are deflated (level 5) in two halves at once, the
way pigz does: the second half starts from the first half's last 32 KiB as its dictionary
and the first ends on a byte boundary (a sync flush), so the two raw deflate streams join
into one. zlib releases the GIL while it compresses, so the halves use two cores. The result
decodes to the same pixels and is about as small as Pillow's.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib

import numpy as np

from studio.export.base import ExportError, FrameWriter, os_reason

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Level 5 with the Sub filter comes out about as small as Pillow's level-6 file for a
# rendered frame, in much less time than level 6.
LEVEL = 5
_WINDOW = 32 * 1024  # deflate's window: how far back the second half may refer
_SUB = 1  # PNG filter type 1: each byte minus the same channel of the pixel on its left
_PARALLEL_BYTES = 256 * 1024  # smaller pictures are deflated in one go
_ZLIB_HEADER = zlib.compress(b"", LEVEL)[:2]


class PngWriter(FrameWriter):
    suffix = ".png"
    name = "PNG"
    label = "PNG (current frame)"
    animated = False
    alpha = True  # an RGBA frame keeps its transparency (`render --transparent`)

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        super().__init__(path, fps, size)
        self._frame: np.ndarray | None = None

    def _write(self, frame: np.ndarray) -> None:
        self._frame = frame.copy()  # one frame: the last one written is the picture

    def _finish(self) -> None:
        if self._frame is None:
            raise ExportError(f"no frame to write to {self.path}")
        try:
            data = encode_png(self._frame)
            with open(self.tmp_path, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise ExportError(f"cannot write {self.path}: {os_reason(exc)}") from None
        finally:
            self._frame = None

    def _cleanup(self) -> None:
        self._frame = None


def encode_png(frame: np.ndarray) -> bytes:
    """PNG bytes of a uint8 (h, w, 3) RGB or (h, w, 4) RGBA frame."""
    height, width, channels = frame.shape
    pixels = np.ascontiguousarray(frame, dtype=np.uint8).reshape(height, width * channels)
    filtered = np.empty((height, width * channels + 1), dtype=np.uint8)
    filtered[:, 0] = _SUB
    filtered[:, 1 : channels + 1] = pixels[:, :channels]
    np.subtract(pixels[:, channels:], pixels[:, :-channels], out=filtered[:, channels + 1 :])
    colour_type = 6 if channels == 4 else 2  # RGBA or RGB, 8 bits a channel
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", _deflate(filtered.reshape(-1))),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _deflate(data: np.ndarray) -> bytes:
    """A zlib stream of `data`, compressed in two halves on two threads."""
    if data.size < _PARALLEL_BYTES:
        return zlib.compress(data.tobytes(), LEVEL)
    view = data.data  # one-dimensional, contiguous uint8: a memoryview of its bytes
    middle = data.size // 2
    first_half: list[bytes] = []

    def compress_first() -> None:
        first = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        first_half.append(first.compress(view[:middle]) + first.flush(zlib.Z_SYNC_FLUSH))

    worker = threading.Thread(target=compress_first, name="png-deflate")
    worker.start()
    second = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, zdict=view[middle - _WINDOW : middle])
    second_half = second.compress(view[middle:]) + second.flush(zlib.Z_FINISH)
    worker.join()
    # zlib's header (as zlib writes it at this level), the raw streams joined, and the
    # Adler-32 of everything.
    return (
        _ZLIB_HEADER
        + first_half[0]
        + second_half
        + struct.pack(">I", zlib.adler32(view) & 0xFFFFFFFF)
    )
