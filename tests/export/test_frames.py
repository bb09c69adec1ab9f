"""The Qt-free export pieces: the frame loop, the formats and views registries, and the
clean-up of what a killed export left behind."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from studio.export import WRITERS, ExportError, open_writer, writer_class
from studio.export.base import SCRATCH_PREFIX, TEMP_PREFIX, remove_stale, temp_prefix
from studio.export.frames import ExportCancelled, FrameLoop
from studio.export.views import EXPORT_VIEWS, VIEWS, export_view, views_help

SIZE = (32, 16)


def grey(i: int) -> np.ndarray:
    return np.full((SIZE[1], SIZE[0], 3), 10 * i, np.uint8)


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def test_the_loop_renders_writes_and_reports_every_frame(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    rendered: list[int] = []

    def render(i: int) -> np.ndarray:
        rendered.append(i)
        return grey(i)

    writer = open_writer(tmp_path / "still.png", 30, SIZE)
    FrameLoop(render, 3, writer, lambda done, total: seen.append((done, total))).run()
    assert rendered == [0, 1, 2] and seen == [(1, 3), (2, 3), (3, 3)]
    assert [p.name for p in tmp_path.iterdir()] == ["still.png"]


def test_the_loop_advances_in_slices_until_its_deadline(tmp_path: Path) -> None:
    loop = FrameLoop(grey, 5, open_writer(tmp_path / "a.png", 30, SIZE))
    assert not loop.advance(deadline=time.monotonic() - 1)  # past: still one frame
    assert loop.done == 1
    assert loop.advance() and loop.rendered and loop.done == 5
    loop.close()
    assert (tmp_path / "a.png").exists()


def test_a_cancel_stops_before_the_next_frame_and_leaves_nothing(tmp_path: Path) -> None:
    cancel = threading.Event()

    def render(i: int) -> np.ndarray:
        if i == 1:
            cancel.set()
        return grey(i)

    loop = FrameLoop(render, 10, open_writer(tmp_path / "a.png", 30, SIZE), cancel=cancel)
    with pytest.raises(ExportCancelled):
        loop.run()
    assert loop.done == 2
    assert list(tmp_path.iterdir()) == []


def test_every_format_describes_itself() -> None:
    assert list(WRITERS) == ["gif", "mp4", "png"]
    for fmt, cls in WRITERS.items():
        assert cls.suffix == "." + fmt and cls.label and cls.name
        assert cls.default_size[0] > 0 and cls.default_fps > 0
    assert writer_class("mp4").even_sides and not writer_class("gif").even_sides
    assert not writer_class("png").animated and writer_class("gif").animated
    with pytest.raises(ExportError, match="one of gif, mp4, png"):
        writer_class("avi")


def test_every_export_view_is_made_of_known_views() -> None:
    for shown in EXPORT_VIEWS.values():
        assert shown.panels and all(p in VIEWS for p in shown.panels)
    assert export_view("3d").single_3d and not export_view("composite").single_3d
    assert export_view("loss").flat and not export_view("3d+loss").flat
    assert "composite: 3D beside the contour map and loss" in views_help()
    with pytest.raises(ValueError, match="one of 3d, contour"):
        export_view("pie")


def test_temporary_files_carry_the_prefix_and_pid(tmp_path: Path) -> None:
    writer = open_writer(tmp_path / "clip.png", 30, SIZE)
    try:
        assert writer.tmp_path.name.startswith(temp_prefix(TEMP_PREFIX) + "clip.")
    finally:
        writer.abort()


def test_stale_files_of_a_dead_process_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = dead_pid()
    stale_file = tmp_path / f"{TEMP_PREFIX}{dead}-clip.abc.mp4"
    stale_dir = tmp_path / f"{SCRATCH_PREFIX}{dead}-xyz"
    ours = tmp_path / f"{temp_prefix(TEMP_PREFIX)}clip.def.mp4"
    unrelated = tmp_path / ".clip.ghi.mp4"
    for path in (stale_file, ours, unrelated):
        path.write_bytes(b"x")
    stale_dir.mkdir()
    (stale_dir / "frames.mkv").write_bytes(b"x")
    assert remove_stale(tmp_path, TEMP_PREFIX) == [stale_file]
    assert remove_stale(tmp_path, SCRATCH_PREFIX) == [stale_dir]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ours.name, unrelated.name])


def test_a_new_export_cleans_its_folder_of_a_killed_ones_file(tmp_path: Path) -> None:
    stale = tmp_path / f"{TEMP_PREFIX}{dead_pid()}-old.abc.png"
    stale.write_bytes(b"half a clip")
    with open_writer(tmp_path / "new.png", 30, SIZE) as out:
        out.write(grey(1))
    assert [p.name for p in tmp_path.iterdir()] == ["new.png"]


def test_frame_size_is_bounded_by_area_as_well_as_side() -> None:
    """4K renders; a frame whose memory would pass 1 GB is refused up front, in one line."""
    import pytest

    from studio.errors import StudioError
    from studio.export.options import check_frame_size

    check_frame_size((3840, 2160))
    check_frame_size((8192, 1080))  # a wide strip is fine: it is the area that costs
    for size, reason in (
        ((8192, 8192), "megapixels"),
        ((9000, 100), "per side"),
        ((8, 720), "too small"),
    ):
        with pytest.raises(StudioError, match=reason) as info:
            check_frame_size(size)
        assert "\n" not in str(info.value)
