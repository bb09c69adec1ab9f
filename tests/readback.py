"""Reading exports back in tests: MP4 stream facts and frames through the bundled ffmpeg."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np


def read_mp4(path: Path) -> tuple[dict, list[np.ndarray]]:
    """Stream facts and RGB frames, via the bundled ffmpeg run to completion (imageio's
    readers leave their ffmpeg pipes to the garbage collector: a ResourceWarning)."""
    proc = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-i",
            str(path),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    log = proc.stderr.decode("utf-8", "replace")
    m = re.search(r"Video: (\w+).*?, (yuv\w+).*?, (\d+)x(\d+).*?, ([\d.]+) fps", log)
    assert m, log
    w, h = int(m.group(3)), int(m.group(4))
    meta = {"codec": m.group(1), "pix_fmt": m.group(2), "size": (w, h), "fps": float(m.group(5))}
    frames = list(np.frombuffer(proc.stdout, np.uint8).reshape(-1, h, w, 3))
    return meta, frames


def read_gif(path: Path) -> np.ndarray:
    """Every frame of a GIF as (frames, height, width, channels) uint8."""
    import imageio.v3 as iio

    return np.asarray(iio.imread(path, index=None))
