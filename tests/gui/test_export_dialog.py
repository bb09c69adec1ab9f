"""File → Export animation…: options in, file out; cancel and errors leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QMessageBox, QPushButton

from studio.gui.export.dialog import ExportDialog
from studio.gui.settings import studio_settings

from qt_helpers import drag


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


def test_unwritable_path_shows_one_line(
    qtbot, dialog: ExportDialog, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _parent, _title, text: shown.append(text))
    )
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


def test_frame_rate_box_offers_what_each_format_plays(dialog: ExportDialog, out_dir: Path) -> None:
    choose(dialog, out_dir / "clip.mp4", "mp4", (160, 96))
    assert (dialog.fps_spin.minimum(), dialog.fps_spin.maximum()) == (1, 120)
    dialog.fps_spin.setValue(60)
    assert dialog.options().fps == 60
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("gif"))
    assert dialog.fps_spin.maximum() == 50 and dialog.fps_spin.value() == 50
    dialog.fps_spin.setValue(30)  # a GIF frame lasts whole hundredths: 30 plays at 33.3
    assert dialog.options().fps == pytest.approx(100 / 3)
    assert "33.3 frames/s" in dialog.summary.text()
    dialog.fps_spin.setValue(25)
    assert dialog.options().fps == 25 and "frames/s" not in dialog.summary.text()


def test_a_refused_path_is_not_suggested_next_time(
    qtbot, window, dialog: ExportDialog, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *_a: None))
    missing = out_dir / "missing"
    choose(dialog, missing / "clip.gif", "gif", (120, 80))
    dialog.fps_spin.setValue(10)
    assert dialog.start_export() is None
    again = ExportDialog(window.session, window)
    qtbot.addWidget(again)
    assert Path(again.path_edit.text()).parent != missing
    assert again.fps_spin.value() != 10  # nothing of the failed attempt was kept


def test_a_folder_as_the_path_fails_at_once(
    qtbot, dialog: ExportDialog, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _parent, _title, text: shown.append(text))
    )
    folder = out_dir / "clip.mp4"
    folder.mkdir()
    choose(dialog, folder, "mp4", (160, 96))
    assert dialog.start_export() is None  # refused before a single frame is rendered
    assert len(shown) == 1 and "it is a folder" in shown[0]
    assert list(folder.iterdir()) == []


def test_background_and_step_range_are_remembered(
    qtbot, window, dialog: ExportDialog, out_dir: Path
) -> None:
    dialog.background_combo.setCurrentIndex(1)  # Light
    dialog.range_radio.setChecked(True)
    dialog.from_spin.setValue(10)
    dialog.to_spin.setValue(50)
    out = out_dir / "clip.gif"
    choose(dialog, out, "gif", (120, 72))
    dialog.duration_spin.setValue(0.2)
    dialog.fps_spin.setValue(10)
    job = dialog.start_export()
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    again = ExportDialog(window.session, window)
    qtbot.addWidget(again)
    assert again.background_combo.currentText() == "Light" and not again.options().dark
    assert again.range_radio.isChecked()
    assert (again.options().from_step, again.options().to_step) == (10, 50)


def test_a_remembered_range_past_this_run_falls_back_to_the_whole_run(qtbot, window) -> None:
    last = window.session.last_frame
    s = studio_settings()
    s.setValue("export/range", True)
    s.setValue("export/from", 10)
    s.setValue("export/to", last + 500)  # a longer run than the one open now
    d = ExportDialog(window.session, window)
    qtbot.addWidget(d)
    assert d.whole_radio.isChecked()
    assert (d.options().from_step, d.options().to_step) == (0, None)


def test_3d_still_beside_the_live_window_shows_the_surface(
    qtbot, window, dialog: ExportDialog, out_dir: Path
) -> None:
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


def test_camera_as_now_keeps_a_zoom_and_reframes_a_preset(dialog: ExportDialog) -> None:
    """A preset view is framed again for the export's shape; a view the user zoomed is
    exported at the user's distance."""
    view3d = dialog.main_window.view3d
    view3d.reset_view()
    az, el, _ = view3d.camera()
    assert dialog._camera() == (az, el, None)
    QTest.mouseClick(view3d.view, Qt.MouseButton.LeftButton)  # a click is not a turn
    assert dialog._camera()[2] is None
    drag(view3d.view)  # the user turns the camera
    from PyQt6.QtCore import QCoreApplication

    QCoreApplication.processEvents()  # the window copies it into the view settings
    assert dialog._camera()[2] is not None
    from studio.gui.settings import Camera

    # The dialog reads the session's view settings, which the window keeps in step.
    dialog.session.view_settings.camera = Camera(10.0, 20.0, 30.0, None)
    assert dialog._camera() == (10.0, 20.0, 30.0)
