"""The GIF, MP4 and PNG writers: read back with imageio; atomic; clean one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image
from readback import read_mp4

from studio.errors import StudioError
from studio.export import ExportError, format_of, open_writer

ORANGE = (230, 159, 0)
BLUE = (0, 114, 178)


def moving_square(i: int, size: tuple[int, int]) -> np.ndarray:
    """A grey frame with an orange square moving right and a fixed blue bar."""
    w, h = size
    frame = np.full((h, w, 3), 235, np.uint8)
    frame[h // 4: h // 4 + 16, 4 + 8 * i: 20 + 8 * i] = ORANGE
    frame[-12:, : w // 2] = BLUE
    return frame


def write_clip(path: Path, n: int, size: tuple[int, int], fps: float = 20) -> None:
    with open_writer(path, fps, size) as out:
        for i in range(n):
            out.write(moving_square(i, size))


def has_colour(frame: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> bool:
    return bool((np.abs(frame[..., :3].astype(int) - rgb).max(axis=-1) < tol).any())


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_gif_reads_back_with_one_palette_loop_and_durations(tmp_path: Path) -> None:
    path = tmp_path / "clip.gif"
    write_clip(path, 12, (96, 64), fps=20)
    frames = iio.imread(path, index=None)
    assert frames.shape[:3] == (12, 64, 96)
    assert not np.array_equal(frames[0], frames[-1])  # the square moved
    assert has_colour(frames[5], ORANGE) and has_colour(frames[5], BLUE)
    with Image.open(path) as im:
        assert im.info["loop"] == 0
        durations, palettes = [], set()
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info["duration"])
            palettes.add(bytes(im.getpalette() or b""))
    assert durations == [50] * 12  # 20 frames/s
    assert len(palettes) == 1  # one global palette, no per-frame local tables
    assert leftovers(tmp_path) == ["clip.gif"]


def test_gif_durations_average_to_the_frame_rate(tmp_path: Path) -> None:
    path = tmp_path / "clip.gif"
    write_clip(path, 9, (64, 48), fps=30)
    with Image.open(path) as im:
        total = 0
        for k in range(im.n_frames):
            im.seek(k)
            total += im.info["duration"]
    assert total == pytest.approx(300, abs=10)  # GIF counts in 10 ms: 30, 30, 40, ...


def test_mp4_reads_back_h264_yuv420p_at_fps(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    write_clip(path, 10, (128, 96), fps=25)
    meta, frames = read_mp4(path)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert meta["fps"] == 25 and meta["size"] == (128, 96)
    assert len(frames) == 10
    assert not np.array_equal(frames[0], frames[-1])
    assert has_colour(frames[5], ORANGE) and has_colour(frames[5], BLUE)
    assert leftovers(tmp_path) == ["clip.mp4"]
    # +faststart: the index ('moov') comes before the media data ('mdat').
    head = path.read_bytes()
    assert head.find(b"moov") < head.find(b"mdat")


def test_png_keeps_the_frame(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    with open_writer(path, 1, (40, 30)) as out:
        out.write(moving_square(1, (40, 30)))
    img = iio.imread(path)
    assert img.shape == (30, 40, 3)
    assert np.array_equal(img, moving_square(1, (40, 30)))


def test_odd_mp4_size_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"even width and height, got 101x60 \(try 102x60\)"):
        open_writer(tmp_path / "odd.mp4", 30, (101, 60))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["clip.gif", "clip.mp4", "still.png"])
def test_abort_leaves_no_file(tmp_path: Path, name: str) -> None:
    out = open_writer(tmp_path / name, 20, (64, 48))
    for i in range(3):
        out.write(moving_square(i, (64, 48)))
    out.abort()
    out.abort()  # twice is harmless
    assert leftovers(tmp_path) == []


def test_exception_inside_with_block_aborts(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), open_writer(tmp_path / "clip.mp4", 20, (64, 48)) as out:
        out.write(moving_square(0, (64, 48)))
        raise RuntimeError("render failed")
    assert leftovers(tmp_path) == []


def test_existing_file_survives_a_cancelled_export(tmp_path: Path) -> None:
    path = tmp_path / "clip.gif"
    path.write_bytes(b"old")
    out = open_writer(path, 20, (64, 48))
    out.write(moving_square(0, (64, 48)))
    out.abort()
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == ["clip.gif"]


def test_missing_folder_is_a_one_line_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist") as info:
        open_writer(tmp_path / "nowhere" / "clip.mp4", 30, (64, 48))
    assert isinstance(info.value, StudioError) and "\n" not in str(info.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root may write to a read-only folder")
def test_read_only_folder_is_an_export_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="Permission denied"):
            open_writer(folder / "clip.gif", 30, (64, 48))
        assert leftovers(folder) == []
    finally:
        folder.chmod(0o700)


def test_unwritable_path_is_an_export_error(tmp_path: Path, monkeypatch) -> None:
    """Whoever runs the tests (root too), mkstemp failing is reported as one line."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match=r"cannot write .*clip.mp4: Permission denied"):
        open_writer(tmp_path / "clip.mp4", 30, (64, 48))
    assert leftovers(tmp_path) == []


def test_encoder_dying_mid_clip_is_an_export_error_and_no_file(tmp_path: Path) -> None:
    """What a full disk looks like from here: ffmpeg exits with an error mid-stream."""
    out = open_writer(tmp_path / "clip.mp4", 20, (64, 48))
    out.write(moving_square(0, (64, 48)))
    out._pipe._proc.kill()  # simulate the encoder failing
    with pytest.raises(ExportError, match="cannot write"):
        for i in range(200):
            out.write(moving_square(i % 6, (64, 48)))
        out.close()
    out.abort()
    assert leftovers(tmp_path) == []


def test_missing_ffmpeg_is_one_line_with_what_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-such-ffmpeg"))
    with pytest.raises(ExportError, match="ffmpeg not found: reinstall imageio-ffmpeg"):
        open_writer(tmp_path / "clip.mp4", 30, (64, 48))
    assert leftovers(tmp_path) == []


def test_wrong_frame_shape_is_refused(tmp_path: Path) -> None:
    out = open_writer(tmp_path / "clip.gif", 20, (64, 48))
    with pytest.raises(ExportError, match="expected uint8"):
        out.write(np.zeros((48, 64, 4), np.uint8))
    out.abort()


def test_unknown_suffix() -> None:
    assert format_of("a/b.MP4") == "mp4"
    with pytest.raises(ExportError, match="must end in .gif, .mp4, .png"):
        format_of("clip.avi")
