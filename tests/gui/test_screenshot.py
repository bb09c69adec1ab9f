"""`studio gui --screenshot` under Xvfb: a real GL frame with the surface's colours."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PyQt6.QtGui import QImage


def image_to_array(path: Path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def test_screenshot_shows_painted_surface(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "gui", "--screenshot", str(out), "--size", "900x600"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rgb = image_to_array(out)
    assert rgb.shape[0] >= 600 and rgb.shape[1] >= 900
    # The surface is drawn with a colormap: many distinct colours, not a blank frame.
    distinct = len(np.unique(rgb.reshape(-1, 3) // 8, axis=0))
    assert distinct > 50, f"only {distinct} colours: the GL view did not paint"
