"""Failures that must be one line, exit 2 and leave nothing behind: a full disk (a small
tmpfs, mounted when the tests run as root), /dev/full on stdout, a full temporary folder
under a GIF export, a scene holding text no file can take, a trace too large for memory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from studio_cli import run_studio as studio

from studio.errors import StudioError
from studio.scene import SceneError, load_scene

TRACE = [
    "trace",
    "--surface",
    "bowl",
    "--optimizer",
    "sgd",
    "--start-grid",
    "8x8",
    "--steps",
    "2000",
]  # ~1.3 MB of CSV: far more than the tmpfs holds


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studio: error: "), stderr
    return lines[0]


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 kB tmpfs: a disk that fills up after a few writes."""
    where = tmp_path / "small"
    where.mkdir()
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", [TRACE, ["presets"]], ids=["trace", "presets"])
def test_dev_full_on_stdout_is_one_line_exit_2(command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            [sys.executable, "-m", "studio", *command],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert out.returncode == 2
    assert "cannot write to standard output: No space left on device" in one_error_line(out.stderr)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npz"])
def test_trace_onto_a_full_disk_is_one_line_and_leaves_no_file(
    full_disk: Path, suffix: str
) -> None:
    out = studio(*TRACE, "-o", str(full_disk / f"run{suffix}"))
    assert out.returncode == 2
    assert "No space left on device" in one_error_line(out.stderr)
    assert list(full_disk.iterdir()) == []


def test_screenshot_onto_a_full_disk_leaves_no_partial_png(full_disk: Path, qapp) -> None:
    from PyQt6.QtGui import QImage

    from studio.gui.screenshot import save_png_atomically

    # Noise does not compress: its PNG is far larger than the tmpfs.
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 4), dtype=np.uint8)
    image = QImage(noise.data, 400, 400, 1600, QImage.Format.Format_RGBA8888).copy()
    with pytest.raises(StudioError, match="No space left on device") as caught:
        save_png_atomically(image, full_disk / "shot.png")
    assert "\n" not in str(caught.value)
    assert list(full_disk.iterdir()) == []
    small = QImage(8, 8, QImage.Format.Format_RGB32)
    small.fill(0xFF336699)
    save_png_atomically(small, full_disk / "ok.png")
    assert [p.name for p in full_disk.iterdir()] == ["ok.png"]
    assert QImage(str(full_disk / "ok.png")).width() == 8


def test_gif_with_a_full_temporary_folder_names_the_reason(
    full_disk: Path, tmp_path: Path, monkeypatch
) -> None:
    from studio.export.base import ExportError
    from studio.export.gif import GifWriter

    monkeypatch.setattr(tempfile, "tempdir", str(full_disk))
    noise = np.random.default_rng(0).integers(0, 256, (60, 240, 320, 3), dtype=np.uint8)
    # The failure may come at any frame or at close: the whole export is inside.
    with (
        pytest.raises(ExportError) as caught,
        GifWriter(tmp_path / "clip.gif", 20, (320, 240)) as writer,
    ):
        for frame in noise:
            writer.write(frame)
    message = str(caught.value)
    assert "No space left on device" in message and "exit status" not in message, message
    assert "\n" not in message
    assert [p.name for p in tmp_path.iterdir()] == ["small"]
    assert list(full_disk.iterdir()) == []


def test_ffmpeg_log_is_kept_in_memory_and_bounded() -> None:
    from studio.export.ffmpeg import LOG_TAIL_BYTES, LogTail

    noisy = (
        "import sys\nfor i in range(40000): print('line', i, file=sys.stderr)\n"
        "print('[gif @ 0x55aa] the last reason', file=sys.stderr)"
    )
    proc = subprocess.Popen([sys.executable, "-c", noisy], stderr=subprocess.PIPE)
    assert proc.stderr is not None
    log = LogTail(proc.stderr)
    proc.wait()
    text = log.text()
    log.close()
    assert len(text) <= LOG_TAIL_BYTES
    assert text.endswith("[gif @ 0x55aa] the last reason\n")


def lone_surrogate_scene(tmp_path: Path) -> Path:
    path = tmp_path / "bad.json"
    # json.dumps escapes the surrogate, as a hostile or broken file would hold it.
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "surface": {"preset": "bowl"},
                "runs": [{"optimizer": "sgd", "label": "\ud800", "starts": [[1, 1]]}],
            }
        )
    )
    return path


def test_a_lone_surrogate_in_a_scene_is_refused_when_read(tmp_path: Path) -> None:
    with pytest.raises(SceneError, match=r"runs\[0\].label.*not valid Unicode") as caught:
        load_scene(lone_surrogate_scene(tmp_path))
    assert "\n" not in str(caught.value)
    out = studio("trace", str(lone_surrogate_scene(tmp_path)), "-o", str(tmp_path / "o.csv"))
    assert out.returncode == 2
    assert "not valid Unicode" in one_error_line(out.stderr)
    assert [p.name for p in tmp_path.iterdir()] == ["bad.json"]
