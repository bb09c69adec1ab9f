"""A single frame as PNG (the "current frame" export): keeps the last frame written."""

from __future__ import annotations

import os

import numpy as np

from studio.export.base import ExportError, FrameWriter, os_reason

COMPRESS_LEVEL = 3


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
        # Pillow itself (imageio's PNG plugin, which imageio installs): importing imageio
        # and finding its plugin took longer than writing the picture (`render` start-up).
        # Level 3: a still is mostly start-up (docs/architecture.md#start-up), and level 6
        # took a third longer for files a tenth smaller.
        from PIL import Image

        if self._frame is None:
            raise ExportError(f"no frame to write to {self.path}")
        try:
            Image.fromarray(self._frame).save(
                self.tmp_path, format="PNG", compress_level=COMPRESS_LEVEL
            )
        except OSError as exc:
            raise ExportError(f"cannot write {self.path}: {os_reason(exc)}") from None
        finally:
            self._frame = None

    def _cleanup(self) -> None:
        self._frame = None
