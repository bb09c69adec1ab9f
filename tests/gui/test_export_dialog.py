"""File → Export animation…: options in, file out; cancel and errors leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QMessageBox, QPushButton

from studio.gui.export_dialog import ExportDialog


@pytest.fixture
def dialog(qtbot, window) -> ExportDialog:
    d = ExportDialog(window.session, window)
    qtbot.addWidget(d)
    return d


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty folder (tmp_path holds the window's scene file)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def choose(d: ExportDialog, path: Path, fmt: str, size: tuple[int, int]) -> None:
    d.format_combo.setCurrentIndex(d.format_combo.findData(fmt))
    d.size_combo.setCurrentIndex(d.size_combo.count() - 1)  # Custom
    d.width_spin.setValue(size[0])
    d.height_spin.setValue(size[1])
    d.width_spin.editingFinished.emit()
    d.path_edit.setText(str(path))


def test_gif_export_writes_the_file(qtbot, dialog: ExportDialog, out_dir: Path) -> None:
    out = out_dir / "clip.gif"
    choose(dialog, out, "gif", (200, 120))
    dialog.duration_spin.setValue(0.4)
    dialog.fps_spin.setValue(10)
    dialog.view_combo.setCurrentIndex(dialog.view_combo.findData("contour"))
    dialog.trail_spin.setValue(20)
    assert dialog.summary.text().startswith("4 frames")
    job = dialog.start_export()
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    frames = iio.imread(out, index=None)
    assert frames.shape == (4, 120, 200, 3)
    assert sorted(p.name for p in out_dir.iterdir()) == ["clip.gif"]
    assert "Exported" in dialog.main_window.statusBar().currentMessage()


def test_cancel_removes_the_partial_file(qtbot, dialog: ExportDialog, out_dir: Path) -> None:
    out = out_dir / "clip.mp4"
    choose(dialog, out, "mp4", (160, 96))
    dialog.duration_spin.setValue(120.0)  # 3600 frames: far from done when cancelled
    job = dialog.start_export()
    assert job is not None
    qtbot.waitUntil(lambda: job.done >= 2, timeout=30_000)
    with qtbot.waitSignal(job.cancelled, timeout=1_000):
        qtbot.mouseClick(dialog.progress.findChild(QPushButton), Qt.MouseButton.LeftButton)
    assert job.done < job.total
    assert list(out_dir.iterdir()) == []


def test_unwritable_path_shows_one_line(qtbot, dialog: ExportDialog, out_dir: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda _parent, _title, text: shown.append(text)))
    choose(dialog, out_dir / "missing" / "clip.gif", "gif", (120, 80))
    assert dialog.start_export() is None
    assert len(shown) == 1 and "does not exist" in shown[0] and "\n" not in shown[0]
    assert list(out_dir.iterdir()) == []


def test_mp4_sizes_are_even_and_png_is_one_frame(dialog: ExportDialog, out_dir: Path) -> None:
    choose(dialog, out_dir / "clip.mp4", "mp4", (101, 61))
    dialog.height_spin.editingFinished.emit()
    assert dialog.export_size() == (100, 60)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("png"))
    assert dialog.path_edit.text().endswith("clip.png")
    assert dialog.options().still and dialog.summary.text().startswith("One frame")


def test_choices_are_remembered(qtbot, window, dialog: ExportDialog, out_dir: Path) -> None:
    choose(dialog, out_dir / "clip.mp4", "mp4", (320, 180))
    dialog.fps_spin.setValue(24)
    dialog.view_combo.setCurrentIndex(dialog.view_combo.findData("composite"))
    dialog.save_settings()
    again = ExportDialog(window.session, window)
    qtbot.addWidget(again)
    assert again.fmt() == "mp4" and again.fps_spin.value() == 24
    assert again.view_combo.currentData() == "composite"
    assert again.export_size() == (320, 180)
    assert Path(again.path_edit.text()).parent == out_dir


def test_3d_still_beside_the_live_window_shows_the_surface(qtbot, window, dialog: ExportDialog,
                                                           out_dir: Path) -> None:
    """The export's hidden GL view and the window's GL view draw with the same shaders."""
    qtbot.waitUntil(lambda: not window.view3d.grab_scene().isNull(), timeout=10_000)
    out = out_dir / "still.png"
    choose(dialog, out, "png", (320, 200))
    dialog.view_combo.setCurrentIndex(dialog.view_combo.findData("3d"))
    job = dialog.start_export()
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    rgb = iio.imread(out)[..., :3].reshape(-1, 3).astype(int)
    # viridis greens and yellows of the surface, not just the background and the overlays
    surface = (rgb[:, 1] > rgb[:, 0] + 30) & (rgb[:, 1] > 90)
    assert surface.mean() > 0.05
