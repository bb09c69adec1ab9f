"""The GIF, MP4 and PNG writers: read back with imageio; atomic; clean one-line errors."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from studio.errors import StudioError
from studio.export import ExportError, format_of, open_writer

from readback import read_mp4

ORANGE = (230, 159, 0)
BLUE = (0, 114, 178)


def moving_square(i: int, size: tuple[int, int]) -> np.ndarray:
    """A grey frame with an orange square moving right and a fixed blue bar."""
    w, h = size
    frame = np.full((h, w, 3), 235, np.uint8)
    frame[h // 4 : h // 4 + 16, 4 + 8 * i : 20 + 8 * i] = ORANGE
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


@pytest.mark.parametrize("fps,delay_ms", [(30, 30), (50, 20), (24, 40), (1, 1000)])
def test_gif_frames_all_last_the_same_whole_hundredths(
    tmp_path: Path, fps: float, delay_ms: int
) -> None:
    """GIF delays are hundredths of a second: every frame gets the same one (30 frames/s
    plays at 33.3, never 30, 30, 40 ms in turn, which judders)."""
    path = tmp_path / "clip.gif"
    with open_writer(path, fps, (64, 48)) as out:
        assert out.fps == pytest.approx(1000 / delay_ms)
        for i in range(7):
            out.write(moving_square(i, (64, 48)))
    with Image.open(path) as im:
        durations = []
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info["duration"])
    assert durations == [delay_ms] * 7


@pytest.mark.parametrize(
    "name,fps,words",
    [
        ("clip.mp4", 999999, "MP4 frame rate must be 1 to 120 frames/s"),
        ("clip.mp4", 0.5, "MP4 frame rate must be 1 to 120 frames/s"),
        ("clip.gif", 60, "GIF frame rate must be 1 to 50 frames/s"),
        ("clip.gif", 0, "frame rate must be positive"),
    ],
)
def test_frame_rates_players_cannot_play_are_refused(
    tmp_path: Path, name: str, fps: float, words: str
) -> None:
    with pytest.raises(ExportError, match=words) as info:
        open_writer(tmp_path / name, fps, (64, 48))
    assert "\n" not in str(info.value)
    assert leftovers(tmp_path) == []


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


# Okabe-Ito colours as the views draw them, a dark and a light background, pure primaries.
FLAT = [
    (230, 220, 32),
    (0, 158, 115),
    (86, 180, 233),
    (213, 94, 0),
    (204, 121, 167),
    (20, 20, 20),
    (240, 240, 240),
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
]


def stream_info(path: Path) -> str:
    """The `Stream #0:0 ... Video: ...` line ffmpeg prints for a file."""
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    lines = [ln for ln in proc.stderr.splitlines() if "Video:" in ln]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def decode_bt709(path: Path, size: tuple[int, int]) -> np.ndarray:
    """The first frame back to RGB the way browsers and QuickTime read HD video: BT.709,
    limited range, whatever the file says."""
    w, h = size
    proc = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-vf",
            "scale=in_color_matrix=bt709:in_range=tv,format=rgb24",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return np.frombuffer(proc.stdout, np.uint8).reshape(h, w, 3)


def test_mp4_is_bt709_tagged_and_flat_colours_round_trip(tmp_path: Path) -> None:
    """Players decode untagged HD as BT.709: the file is converted with that matrix and
    says so, so a flat colour comes back within 2 levels (BT.601 was off by up to 19)."""
    size = (32 * len(FLAT), 32)
    frame = np.zeros((32, size[0], 3), np.uint8)
    for k, colour in enumerate(FLAT):
        frame[:, 32 * k : 32 * (k + 1)] = colour
    path = tmp_path / "flat.mp4"
    with open_writer(path, 10, size) as out:
        for _ in range(3):
            out.write(frame)
    assert "yuv420p(tv, bt709, progressive)" in stream_info(path)  # matrix/primaries/trc
    back = decode_bt709(path, size).astype(int)
    for k, colour in enumerate(FLAT):
        centre = back[16, 32 * k + 16]
        assert np.abs(centre - colour).max() <= 2, (colour, centre.tolist())


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


def test_a_folder_as_the_target_is_refused_before_any_frame(tmp_path: Path) -> None:
    folder = tmp_path / "clips.mp4"
    folder.mkdir()
    with pytest.raises(ExportError, match="clips.mp4: it is a folder") as info:
        open_writer(folder, 30, (64, 48))
    assert "\n" not in str(info.value)
    assert leftovers(tmp_path) == ["clips.mp4"] and leftovers(folder) == []


def test_missing_folder_is_a_one_line_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist") as info:
        open_writer(tmp_path / "nowhere" / "clip.mp4", 30, (64, 48))
    assert isinstance(info.value, StudioError) and "\n" not in str(info.value)


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write to a read-only folder"
)
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


@pytest.mark.skipif(os.name != "posix", reason="a POSIX shell wrapper limits the file size")
@pytest.mark.parametrize("name", ["clip.gif", "clip.mp4"])
def test_encoder_write_failure_reads_as_one_clean_line(
    tmp_path: Path, name: str, monkeypatch
) -> None:
    """A full disk, as ffmpeg meets it: a write fails mid-file. ffmpeg's log lines start
    with `[out#0/gif @ 0x55…]`; the user reads the reason only."""
    wrapper = tmp_path / "ffmpeg"
    # The real ffmpeg under a 20 kB file-size limit, SIGXFSZ ignored: writes fail (EFBIG).
    wrapper.write_text(
        f"#!/bin/sh\ntrap '' XFSZ\nulimit -f 40\nexec '{imageio_ffmpeg.get_ffmpeg_exe()}' \"$@\"\n",
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(wrapper))
    folder = tmp_path / "out"
    folder.mkdir()
    rng = np.random.default_rng(0)
    # The failure may come at any write, or at close.
    with pytest.raises(ExportError) as info, open_writer(folder / name, 10, (160, 120)) as out:
        for _ in range(12):
            out.write(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8))
    message = str(info.value)
    assert message.startswith(f"cannot write {folder / name}: "), message
    assert "File too large" in message and "\n" not in message
    assert "@ 0x" not in message and "[" not in message, message
    assert leftovers(folder) == []


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
