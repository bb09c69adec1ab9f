"""`studio gui --screenshot` under Xvfb: a real GL frame with the surface's colours."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtGui import QImage
from studio_cli import assert_one_line_error, run_studio


def image_to_array(path: Path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def screenshot(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`studio gui ARGS` in a process of its own, as a script runs it."""
    return subprocess.run(
        [sys.executable, "-m", "studio", "gui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        check=False,
    )


def one_run_scene(tmp_path: Path, **changes: object) -> Path:
    """The shipped default scene cut to its first run, with `changes` to its fields."""
    scene = json.loads((Path(__file__).parents[2] / "assets/scenes/default.json").read_text())
    scene["runs"] = scene["runs"][:1]
    scene.update(changes)
    path = tmp_path / "scene.json"
    path.write_text(json.dumps(scene))
    return path


def test_screenshot_shows_painted_surface(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    proc = screenshot("--screenshot", str(out), "--size", "900x600")
    assert proc.returncode == 0, proc.stderr
    rgb = image_to_array(out)
    assert rgb.shape[0] >= 600 and rgb.shape[1] >= 900
    # The surface is drawn with a colormap: many distinct colours, not a blank frame.
    distinct = len(np.unique(rgb.reshape(-1, 3) // 8, axis=0))
    assert distinct > 50, f"only {distinct} colours: the GL view did not paint"


def test_the_window_exits_cleanly_after_its_screenshot(tmp_path: Path) -> None:
    """A one-run scene had crashed the process as it exited (status 139, after the PNG was
    written): scripts and CI read that as a failure, and a user's close did the same."""
    path = one_run_scene(tmp_path)
    for _ in range(2):  # it crashed every time; twice rules out a lucky exit
        proc = screenshot(str(path), "--screenshot", str(tmp_path / "s.png"))
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""


def test_a_refused_scene_is_pictured_with_its_reason_at_once(tmp_path: Path) -> None:
    """A start where f is undefined gets no trajectory: the screenshot shows the window with
    the reason, not after waiting out its 20 s guard for paths that never come."""
    path = one_run_scene(tmp_path, surface={"preset": None, "expression": "log(x) + y^2"})
    scene = json.loads(path.read_text())
    scene["runs"][0]["starts"] = [[-1.5, 2.0]]
    path.write_text(json.dumps(scene))
    proc = screenshot(str(path), "--screenshot", str(tmp_path / "s.png"), timeout=15)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("name", "words"),
    [("shot.jpg", "ending in .png"), ("missing/shot.png", "folder missing does not exist")],
)
def test_a_screenshot_that_cannot_be_written_as_asked_is_refused_up_front(
    tmp_path: Path, name: str, words: str
) -> None:
    proc = run_studio("gui", "--screenshot", name, cwd=tmp_path)
    assert_one_line_error(proc, words)
    assert list(tmp_path.iterdir()) == []  # no picture, no folder made
