"""Frame encoders (GIF, MP4, PNG) behind one interface; no Qt here (a test checks it).

    with open_writer("run.mp4", fps=30, size=(1280, 720)) as out:
        for frame in frames:          # uint8 (height, width, 3) RGB
            out.write(frame)

The file appears at its path only when the `with` block (or `close()`) succeeds; an
exception, or `abort()`, deletes everything written so far.

The formats registry is `WRITERS` (suffix → writer class); each class describes its format
(`label`, `suffix`, `animated`, `even_sides`, `default_fps`, `default_size`). Beside the
encoders, Qt-free: the render options and frame plan (`options`), the title text
(`titles`), the views an export can show (`views`) and the frame loop (`frames`).
"""

from __future__ import annotations

import os
from pathlib import Path

from studio.export.base import ExportError, FrameWriter, check_target
from studio.export.gif import GifWriter
from studio.export.mp4 import Mp4Writer
from studio.export.png import PngWriter

# The formats, in the order a menu offers them; the key is the file name's suffix.
WRITERS: dict[str, type[FrameWriter]] = {
    cls.suffix.lstrip("."): cls for cls in (GifWriter, Mp4Writer, PngWriter)
}
FORMATS = tuple(WRITERS)


def format_of(path: str | os.PathLike[str]) -> str:
    """`gif`, `mp4` or `png` from the file name; ExportError for anything else."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in WRITERS:
        raise ExportError(
            f"cannot export to '{Path(path).name}': the file name must end in "
            f"{', '.join('.' + f for f in FORMATS)}"
        )
    return ext


def writer_class(fmt: str) -> type[FrameWriter]:
    """The writer class of format `fmt` (`gif`, `mp4`, `png`); ExportError otherwise."""
    if fmt not in WRITERS:
        raise ExportError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    return WRITERS[fmt]


def fps_range(fmt: str) -> tuple[float, float] | None:
    """(lowest, highest) frames/s the format's players handle; None: any (a PNG)."""
    return WRITERS[fmt].fps_range


def playback_fps(fmt: str, fps: float) -> float:
    """The rate a `fmt` file written at `fps` plays at (GIF: whole hundredths per frame);
    ExportError, one line, if the format's players cannot handle `fps`."""
    return WRITERS[fmt].playback_fps(fps)


def open_writer(
    path: str | os.PathLike[str], fps: float, size: tuple[int, int], fmt: str | None = None
) -> FrameWriter:
    """A writer for `path` (format from its suffix unless `fmt` is given)."""
    fmt = format_of(path) if fmt is None else fmt
    return writer_class(fmt)(path, fps, size)


__all__ = [
    "FORMATS",
    "WRITERS",
    "ExportError",
    "FrameWriter",
    "GifWriter",
    "Mp4Writer",
    "PngWriter",
    "check_target",
    "format_of",
    "fps_range",
    "open_writer",
    "playback_fps",
    "writer_class",
]
