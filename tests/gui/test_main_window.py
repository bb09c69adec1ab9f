"""The studio window: files, undo, title, corrupt files, settings, and a monkey."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtWidgets import QFileDialog, QMessageBox

from studio.gui.main_window import MainWindow
from studio.scene import load_scene


def test_title_and_undo_redo(window: MainWindow) -> None:
    assert window.windowTitle() == "Descent Studio — scene.json[*]"
    assert not window.isWindowModified()
    window.session.update_run(0, "Move start", starts=((0.5, 0.5),))
    assert window.isWindowModified()
    window.undo_action.trigger()
    assert window.session.scene.runs[0].starts[0] == (-1.5, 2.0)
    assert not window.isWindowModified()
    window.redo_action.trigger()
    assert window.session.scene.runs[0].starts[0] == (0.5, 0.5)


def test_save_as_then_open_round_trip(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "copy.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    window.session.update_run(1, "Move start", starts=((1.0, 2.0),))
    assert window.save_as()
    assert load_scene(target).runs[1].starts[0] == (1.0, 2.0)
    assert window.windowTitle().startswith("Descent Studio — copy.json")
    assert not window.isWindowModified()

    window.session.update_run(1, "Move start", starts=((0.0, 0.0),))
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    window.open_dialog()  # the prompt is answered Discard by the fixture
    assert window.session.wait_for_simulation()
    assert window.session.scene.runs[1].starts[0] == (1.0, 2.0)
    assert window.session.undo_stack.count() == 0


def test_corrupt_file_shows_reason_and_keeps_scene(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"version": 1, "surface": {"preset": "bowl"}, '
        '"runs": [{"optimizer": "sgd", "starts": "rm -rf"}]}'
    )
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _p, _t, text, *a: shown.append(text))
    )
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad), ""))
    )
    before = window.session.scene
    window.open_dialog()
    assert len(shown) == 1 and "bad.json" in shown[0] and "starts" in shown[0]
    assert window.session.scene == before


def test_layout_and_theme_persist(qtbot, scene_file: Path) -> None:
    first = MainWindow(scene_file, autoplay=False)
    qtbot.addWidget(first)
    first.show()
    first.docks["Loss"].hide()
    first.set_dark(False)
    first.save_settings()
    second = MainWindow(scene_file, autoplay=False)
    qtbot.addWidget(second)
    second.show()
    assert not second.docks["Loss"].isVisible()
    assert second.light_action.isChecked()
    # Closed here, while the test still holds them: windows left to the garbage collector
    # were taken down in the middle of painting a simulation that landed late.
    for w in (first, second):
        w.close()


def test_view_menu_toggles(window: MainWindow) -> None:
    window.wireframe_action.setChecked(True)
    assert window.view3d.wireframe()
    window.log_action.setChecked(False)
    assert not window.loss.log()
    window.view3d.camera_preset("top")
    assert window.view3d.camera()[1] == 90.0


def test_monkey(qtbot, window: MainWindow) -> None:
    """Hundreds of seeded random clicks, keys and edits: nothing may raise."""
    rng = random.Random(1234)
    keys = [
        Qt.Key.Key_Space,
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
        Qt.Key.Key_Home,
        Qt.Key.Key_End,
        Qt.Key.Key_R,
        Qt.Key.Key_1,
        Qt.Key.Key_2,
        Qt.Key.Key_3,
    ]
    targets = [
        window.contour.viewport(),
        window.loss.loss_plot.viewport(),
        window.loss.second_plot.viewport(),
        window.playback.slider,
        window.view3d,
    ]
    s = window.session
    for _ in range(300):
        roll = rng.random()
        if roll < 0.35:
            w = rng.choice(targets)
            pos = QPoint(rng.randrange(max(1, w.width())), rng.randrange(max(1, w.height())))
            qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=pos)
        elif roll < 0.6:
            qtbot.keyClick(window.view3d, rng.choice(keys))
        elif roll < 0.75:
            i = rng.randrange(len(s.scene.runs))
            s.update_run(i, "Move start", starts=((rng.uniform(-2, 2), rng.uniform(-1, 3)),))
        elif roll < 0.82:
            s.undo_stack.undo()
        elif roll < 0.87:
            s.undo_stack.redo()
        elif roll < 0.92:
            s.set_frame(rng.randrange(0, 200))
        else:
            s.select_run(rng.randrange(-1, len(s.scene.runs)))
        qtbot.wait(1)
    s.pause()
    assert s.wait_for_simulation()


def test_run_names_follow_edits_everywhere(window: MainWindow) -> None:
    """An unlabelled run is named by its optimizer and current lr in the table, the 3D
    legend and the status bar, so a tuned run is never shown under its old rate."""
    session = window.session
    session.update_run(1, "Unlabel", label="")
    session.update_run(1, "Tune", hyper={"lr": 0.002})
    assert session.wait_for_simulation()
    session.set_frame(5)
    assert "Momentum&nbsp;(lr&nbsp;0.002)" in window.view3d.legend.text()
    assert "Momentum (lr 0.002)" in window.step_status.text()
    assert window.optimizer_panel.runs_table.item(1, 2).text() == "Momentum (lr 0.002)"


def test_status_bar_keeps_the_selected_run_among_many(window: MainWindow) -> None:
    session = window.session
    runs = session.scene.runs
    many = tuple(dataclasses.replace(runs[1], label=f"run {k}") for k in range(9))
    session.edit_scene(dataclasses.replace(session.scene, runs=runs + many))
    session.select_run(10)
    assert session.wait_for_simulation()
    session.set_frame(3)
    text = window.step_status.text()
    assert "run 8" in text and "more" in text
    assert text.count("●") <= 6


def test_a_new_preset_drops_the_scene_title(qtbot, window: MainWindow) -> None:
    session = window.session
    session.edit_scene(dataclasses.replace(session.scene, title="Rosenbrock race"))
    assert window.view3d.title.text() == "Rosenbrock race"
    assert window.surface_editor.pick_preset("beale")
    # A preset's first pick compiles in the worker; the scene changes when it is ready.
    qtbot.waitUntil(lambda: session.scene.surface.preset == "beale", timeout=10_000)
    assert session.scene.title == ""
    assert "Beale" in window.view3d.title.text()


def test_the_3d_view_paints_new_paths_before_the_docks(window: MainWindow) -> None:
    """After an edit the 3D view shows the new paths first: it has painted them before
    any later slot of trajectoryChanged (the docks' redraws) runs."""
    session = window.session
    painted: list[object] = []
    window.view3d.view.frameSwapped.connect(lambda: painted.append(session.trajectory))
    first: list[bool] = []
    session.trajectoryChanged.connect(lambda t: first.append(bool(painted) and painted[-1] is t))
    session.update_run(0, "Tune", hyper={"lr": 0.04})
    assert session.wait_for_simulation()
    assert first == [True]


# --------------------------------------------------------------------- view settings


def test_view_settings_drive_the_views_and_menus(window: MainWindow) -> None:
    vs = window.session.view_settings
    vs.wireframe = True
    assert window.view3d.wireframe() and window.wireframe_action.isChecked()
    vs.floor_contours = True
    assert window.view3d.floor_contours() and window.floor_action.isChecked()
    vs.log_loss = False
    assert not window.loss.log() and not window.log_action.isChecked()
    vs.lower_plot = "Learning rate"
    assert window.loss.second_combo.currentText() == "Learning rate"
    vs.dark = False
    assert window.light_action.isChecked()
    assert window.loss.loss_plot.backgroundBrush().color().name() == "#fbfbfc"
    vs.trail_length = 5
    assert window.contour._trail_length == 5


def test_menus_and_view_controls_write_the_view_settings(window: MainWindow) -> None:
    vs = window.session.view_settings
    seen: list[str] = []
    vs.changed.connect(seen.append)
    window.wireframe_action.trigger()
    window.log_action.trigger()
    window.loss.second_combo.setCurrentText("Learning rate")
    window.light_action.trigger()
    assert (vs.wireframe, vs.log_loss, vs.lower_plot, vs.dark) == (
        True,
        False,
        "Learning rate",
        False,
    )
    assert seen == ["wireframe", "log_loss", "lower_plot", "dark"]
    window.loss.log_check.setChecked(True)
    assert vs.log_loss and window.log_action.isChecked()


def test_camera_setting_follows_presets_and_the_mouse(qtbot, window: MainWindow) -> None:
    from qt_helpers import drag

    vs = window.session.view_settings
    assert vs.camera.preset == "isometric"
    window.camera_preset("top")
    assert vs.camera.preset == "top" and vs.camera.elevation == 90.0
    assert vs.camera.for_export()[2] is None  # framed: an export frames for its own size
    drag(window.view3d.view)
    qtbot.waitUntil(lambda: vs.camera.preset is None)
    assert vs.camera.azimuth != -90.0  # turned by the drag
    assert vs.camera.for_export() == tuple(window.view3d.camera())
    vs.camera = vs.camera._replace(azimuth=10.0, elevation=20.0)
    assert window.view3d.camera()[:2] == (10.0, 20.0)
