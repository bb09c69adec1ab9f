"""The window opens a scene on its stored lower plot, saves the one on screen, and an export
from the window draws it (validation loss and accuracy on a network scene)."""

from __future__ import annotations

import json
from pathlib import Path

from studio.gui.export.dialog import ExportDialog
from studio.network.model import NetworkSpec
from studio.resources import asset_path
from studio.scene import RunSpec, Scene, SurfaceSpec, save_scene


def network_scene(lower_plot: str = "grad") -> Scene:
    return Scene(
        surface=SurfaceSpec(preset=None, network=NetworkSpec(hidden=(6,))),
        runs=(RunSpec("adam", {"lr": 0.01}),),
        steps=10,
        lower_plot=lower_plot,
    )


def test_the_weight_decay_scene_opens_on_accuracy_and_saving_keeps_the_choice(
    qtbot, window, tmp_path: Path
) -> None:
    session = window.session
    session.open(asset_path("scenes/digits_weight_decay.json"))
    assert session.view_settings.lower_plot == "Accuracy"
    assert window.loss.second_combo.currentText() == "Accuracy"
    assert window.loss.second_plot.field == "accuracy"

    # The combo on screen is what a save stores, and what an export draws.
    window.loss.second_combo.setCurrentText("Validation loss")
    dialog = ExportDialog(session, window)
    qtbot.addWidget(dialog)
    assert dialog.options().lower_plot == "val_loss"
    out = tmp_path / "saved.json"
    session.save(out)
    assert json.loads(out.read_text())["lower_plot"] == "val_loss"


def test_a_surface_scene_saves_no_network_plot_and_new_resets(qtbot, window, tmp_path) -> None:
    session = window.session
    path = tmp_path / "net.json"
    save_scene(network_scene("val_loss"), path)
    session.open(path)
    assert window.loss.second_combo.currentText() == "Validation loss"
    window.loss.second_combo.setCurrentText("Learning rate")
    session.save(path)
    assert json.loads(path.read_text())["lower_plot"] == "lr"

    session.replace_scene(Scene(runs=(RunSpec(starts=((1.0, 1.0),)),)))
    assert session.view_settings.lower_plot == "Gradient norm"  # a scene without a choice
    window.loss.second_combo.setCurrentText("Accuracy")  # nothing to plot on a surface
    out = tmp_path / "surface.json"
    session.save(out)
    assert "lower_plot" not in json.loads(out.read_text())


def test_opening_a_scene_with_fewer_runs_mid_simulation_draws_no_stale_paths(
    qtbot, window, tmp_path: Path
) -> None:
    """The old trajectory (two runs) must not be drawn against the new scene's one run
    while the new one is simulated (an IndexError in the views' throttled rebuild)."""
    session = window.session
    session.wait_for_simulation()
    path = tmp_path / "one.json"
    save_scene(network_scene(), path)
    session.open(path)
    assert session.trajectory is None or session.trajectory.positions.shape[1] == 1
    qtbot.wait(100)  # the views' throttled rebuilds run (pytest-qt fails on their errors)
    assert session.wait_for_simulation()
    qtbot.wait(50)


def test_an_export_too_large_for_memory_is_refused_before_it_starts(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    import dataclasses

    from PyQt6.QtWidgets import QMessageBox

    said: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _p, _t, text: said.append(text))
    )
    session = window.session
    runs = tuple(
        dataclasses.replace(session.scene.runs[0], grid=(8, 8), starts=()) for _ in range(64)
    )
    session.replace_scene(dataclasses.replace(session.scene, runs=runs, steps=2000))
    dialog = ExportDialog(session, window)
    qtbot.addWidget(dialog)
    dialog.view_combo.setCurrentIndex(dialog.view_combo.findData("composite"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("mp4"))
    dialog.size_combo.setCurrentIndex(dialog.size_combo.count() - 1)  # Custom
    dialog.width_spin.setValue(3840)
    dialog.height_spin.setValue(2160)
    dialog.width_spin.editingFinished.emit()
    dialog.path_edit.setText(str(tmp_path / "big.mp4"))
    assert dialog.start_export() is None
    assert len(said) == 1 and "1 GB limit" in said[0]
    assert not (tmp_path / "big.mp4").exists()
