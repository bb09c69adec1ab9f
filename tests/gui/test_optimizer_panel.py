"""OptimizerPanel: the runs table and the registry-built form, both ways through the session."""

from __future__ import annotations

import dataclasses

import pytest
from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QColor, QIcon

from studio.engine import OPTIMIZERS, SCHEDULES
from studio.gui.panels.optimizer_panel import (
    COL_COLOR,
    COL_ENABLED,
    COL_NAME,
    OptimizerPanel,
    next_color,
)
from studio.gui.session import Session
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec
from studio.surface import PRESETS

from qt_helpers import shown


def make_scene(preset: str = "rosenbrock") -> Scene:
    return Scene(
        surface=SurfaceSpec(preset=preset),
        runs=(
            RunSpec("sgd", {"lr": 0.001}, ((-1.5, 2.0),), color=PALETTE[0]),
            RunSpec("adam", {"lr": 0.01}, ((-1.0, 1.0),), color=PALETTE[1], label="fast"),
        ),
        steps=40,
    )


@pytest.fixture
def session() -> Session:
    return Session(make_scene(), threaded=False)


@pytest.fixture
def panel(qtbot, session: Session) -> OptimizerPanel:
    widget = shown(qtbot, OptimizerPanel(session), (420, 900))
    return widget


def swatch(panel: OptimizerPanel, row: int, mode: QIcon.Mode = QIcon.Mode.Normal) -> str:
    """The colour the swatch icon paints (in the given state: selected rows too)."""
    icon = panel.runs_table.item(row, COL_COLOR).data(Qt.ItemDataRole.DecorationRole)
    return icon.pixmap(QSize(14, 14), mode).toImage().pixelColor(7, 7).name()


def data_fit_preset() -> str | None:
    return next((name for name, p in PRESETS.items() if p.data_fit), None)


# --------------------------------------------------------------------- runs table


def test_table_lists_runs(panel: OptimizerPanel, session: Session) -> None:
    table = panel.runs_table
    assert table.rowCount() == 2
    assert table.item(0, COL_NAME).text() == "SGD (lr 0.001)"  # no label: optimizer and lr
    assert table.item(1, COL_NAME).text() == "fast"
    assert table.item(0, COL_ENABLED).checkState() == Qt.CheckState.Checked
    assert swatch(panel, 1) == PALETTE[1]
    assert table.selectionModel().selectedRows()[0].row() == 0


def test_selection_follows_both_ways(qtbot, panel: OptimizerPanel, session: Session) -> None:
    with qtbot.waitSignal(session.selectedRunChanged):
        panel.runs_table.selectRow(1)
    assert session.selected_run == 1
    assert panel.optimizer_combo.currentData() == "adam"
    assert "beta1" in panel.editors
    old_groups = list(panel.groups.values())
    session.select_run(0)
    assert panel.runs_table.selectionModel().selectedRows()[0].row() == 0
    assert panel.optimizer_combo.currentData() == "sgd"
    assert "beta1" not in panel.editors
    # The previous form's groups leave the view at once, not at the next event loop.
    assert all(group.isHidden() for group in old_groups)
    qtbot.waitUntil(lambda: all(g.isVisibleTo(panel) for g in panel.groups.values()))


def test_add_menu_lists_every_optimizer(panel: OptimizerPanel) -> None:
    titles = [a.text() for a in panel.add_menu.actions()]
    assert titles == [info.title for info in OPTIMIZERS.values()]


def test_add_run(panel: OptimizerPanel, session: Session) -> None:
    panel.add_actions["momentum"].trigger()
    runs = session.scene.runs
    assert len(runs) == 3
    new = runs[2]
    assert new.optimizer == "momentum"
    assert new.color == next_color(runs[:2]) == PALETTE[2]
    preset = PRESETS["rosenbrock"]
    if preset.starts:
        assert new.starts == (tuple(map(float, preset.starts[0])),)
    assert dict(new.hyper) == dict(preset.suggested.get("momentum", {}))
    assert session.selected_run == 2
    assert panel.runs_table.rowCount() == 3
    assert panel.optimizer_combo.currentData() == "momentum"
    session.undo_stack.undo()
    assert len(session.scene.runs) == 2
    assert panel.runs_table.rowCount() == 2
    assert session.selected_run in (0, 1)


def test_duplicate_and_remove(qtbot, panel: OptimizerPanel, session: Session) -> None:
    session.select_run(1)
    qtbot.mouseClick(panel.duplicate_button, Qt.MouseButton.LeftButton)
    runs = session.scene.runs
    assert len(runs) == 3
    assert runs[2].optimizer == "adam" and runs[2].hyper == runs[1].hyper
    assert runs[2].label == "fast copy"
    assert runs[2].color not in (runs[0].color, runs[1].color)
    assert session.selected_run == 2
    session.select_run(0)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert [r.optimizer for r in session.scene.runs] == ["adam", "adam"]
    assert session.selected_run == 0
    assert panel.runs_table.item(0, COL_NAME).text() == "fast"
    session.undo_stack.undo()
    assert [r.optimizer for r in session.scene.runs] == ["sgd", "adam", "adam"]


def test_remove_the_last_run_disables_the_form(
    qtbot, panel: OptimizerPanel, session: Session
) -> None:
    panel.remove_run()
    panel.remove_run()
    assert session.scene.runs == ()
    assert session.selected_run == -1
    assert not panel.run_form.isEnabled()
    assert not panel.remove_button.isEnabled()
    session.undo_stack.undo()
    assert len(session.scene.runs) == 1


def test_enable_checkbox_rename_and_colour(panel: OptimizerPanel, session: Session) -> None:
    panel.runs_table.item(0, COL_ENABLED).setCheckState(Qt.CheckState.Unchecked)
    assert session.scene.runs[0].enabled is False
    panel.runs_table.item(0, COL_NAME).setText("baseline")
    assert session.scene.runs[0].label == "baseline"
    panel.color_picker = lambda initial, parent: QColor("#123456")
    panel.runs_table.cellClicked.emit(0, COL_COLOR)
    assert session.scene.runs[0].color == "#123456"
    assert swatch(panel, 0) == swatch(panel, 0, QIcon.Mode.Selected) == "#123456"
    panel.color_picker = lambda initial, parent: QColor()  # cancelled
    assert panel.choose_color(0) is False
    session.undo_stack.undo()
    assert session.scene.runs[0].color == PALETTE[0]
    session.undo_stack.undo()
    assert panel.runs_table.item(0, COL_NAME).text() == "SGD (lr 0.001)"


# --------------------------------------------------------------------- hyperparameters


def test_form_has_every_registry_key(panel: OptimizerPanel, session: Session) -> None:
    for index, run in enumerate(session.scene.runs):
        session.select_run(index)
        info = OPTIMIZERS[run.optimizer]
        schedule = SCHEDULES[str(run.hyper.get("schedule", info.hyper["schedule"].default))]
        # On a surface without data rows the data-only keys have no control.
        data_only = {"batch_size", "batch_order", "stop_on"}
        expected = {k for k in info.hyper if k not in data_only} | {h.key for h in schedule.keys}
        assert set(panel.editors) == expected


def test_lr_spin_box_changes_hyper_and_undo_restores(
    panel: OptimizerPanel, session: Session
) -> None:
    lr = panel.editors["lr"]
    assert lr.spin is not None and lr.slider is not None
    assert lr.spin.value() == pytest.approx(0.001)
    lr.spin.setValue(0.02)
    assert session.scene.runs[0].hyper["lr"] == pytest.approx(0.02)
    assert lr.slider.value() == lr.slider.position_of(0.02)
    session.undo_stack.undo()
    assert session.scene.runs[0].hyper["lr"] == pytest.approx(0.001)
    assert lr.spin.value() == pytest.approx(0.001)
    assert panel.editors["lr"] is lr  # values changed: the form was not rebuilt


def test_lr_spin_box_shows_small_values(panel: OptimizerPanel) -> None:
    spin = panel.editors["lr"].spin
    assert spin is not None
    spin.setValue(3e-5)
    assert spin.text() == "3e-05"
    assert spin.value() == pytest.approx(3e-5)


def test_lr_slider_drag_is_one_undo_step(panel: OptimizerPanel, session: Session) -> None:
    slider = panel.editors["lr"].slider
    assert slider is not None
    depth = session.undo_stack.count()
    start = slider.value()
    for pos in range(start + 10, start + 110, 10):
        slider.setValue(pos)
    assert session.undo_stack.count() == depth + 1
    lr = session.scene.runs[0].hyper["lr"]
    assert lr == pytest.approx(slider.value_at(slider.value()), rel=1e-2)
    assert lr > 0.001
    session.undo_stack.undo()
    assert session.scene.runs[0].hyper["lr"] == pytest.approx(0.001)


def test_log_spin_steps_multiply(panel: OptimizerPanel, session: Session) -> None:
    spin = panel.editors["lr"].spin
    assert spin is not None
    spin.stepBy(10)
    assert session.scene.runs[0].hyper["lr"] == pytest.approx(0.01)


def test_model_edit_updates_widgets(panel: OptimizerPanel, session: Session) -> None:
    session.update_run(0, "Change", hyper={"lr": 0.05, "weight_decay": 0.1})
    assert panel.editors["lr"].spin.value() == pytest.approx(0.05)
    assert panel.editors["weight_decay"].spin.value() == pytest.approx(0.1)


def test_schedule_combo_shows_its_keys(panel: OptimizerPanel, session: Session) -> None:
    combo = panel.editors["schedule"].combo
    assert combo is not None
    assert combo.count() == len(SCHEDULES)
    assert combo.currentData() == "constant"
    for name, schedule in SCHEDULES.items():
        combo = panel.editors["schedule"].combo
        assert combo is not None
        combo.setCurrentIndex(combo.findData(name))
        assert session.scene.runs[0].hyper.get("schedule", "constant") == name
        for other in SCHEDULES.values():
            for h in other.keys:
                assert (h.key in panel.editors) == (h.key in {k.key for k in schedule.keys})
    step = SCHEDULES["step"].keys
    combo = panel.editors["schedule"].combo
    combo.setCurrentIndex(combo.findData("step"))
    first = step[0]
    editor = panel.editors[first.key]
    assert editor.value() == first.default
    editor.spin.setValue(first.default + 1)
    assert session.scene.runs[0].hyper[first.key] == first.default + 1
    assert isinstance(session.scene.runs[0].hyper[first.key], int)


def test_changing_optimizer_keeps_shared_keys(panel: OptimizerPanel, session: Session) -> None:
    panel.editors["weight_decay"].spin.setValue(0.25)
    combo = panel.optimizer_combo
    index = combo.findData("momentum")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    run = session.scene.runs[0]
    assert run.optimizer == "momentum"
    assert run.hyper["weight_decay"] == pytest.approx(0.25)
    # The preset's suggestion for the new rule wins over the old rule's learning rate.
    assert run.hyper["lr"] == PRESETS["rosenbrock"].suggested["momentum"]["lr"]
    assert "momentum" in panel.editors
    index = combo.findData("adam")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    run = session.scene.runs[0]
    assert run.optimizer == "adam" and "momentum" not in run.hyper
    assert "momentum" not in panel.editors and "beta2" in panel.editors


def test_noise_options_present(panel: OptimizerPanel, session: Session) -> None:
    assert "grad_noise" in panel.editors and "noise_gamma" in panel.editors
    panel.editors["grad_noise"].spin.setValue(0.3)
    assert session.scene.runs[0].hyper["grad_noise"] == pytest.approx(0.3)


def test_batch_size_only_on_a_data_fit_surface(qtbot, session: Session) -> None:
    name = data_fit_preset()
    if name is None:
        pytest.skip("no data-fit preset")
    panel = OptimizerPanel(session)
    qtbot.addWidget(panel)
    assert "batch_size" not in panel.editors
    preset = PRESETS[name]
    scene = dataclasses.replace(
        session.scene,
        surface=SurfaceSpec(preset=name),
        runs=tuple(dataclasses.replace(r, starts=(preset.starts[0],)) for r in session.scene.runs),
    )
    assert session.edit_scene(scene, "data fit")
    n_rows = session.surface.n_rows
    assert n_rows > 0
    editor = panel.editors["batch_size"]
    # Any size the command line takes (the engine uses all rows from n_rows up); 0 reads
    # as "all rows".
    assert editor.spin is not None and editor.spin.maximum() > n_rows
    assert editor.spin.text() == "all rows"
    editor.spin.setValue(n_rows + 5)
    assert session.scene.runs[0].hyper["batch_size"] == n_rows + 5
    editor.spin.setValue(1)
    assert session.scene.runs[0].hyper["batch_size"] == 1
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert "batch_size" not in panel.editors


def test_refused_value_shows_its_reason_next_to_the_field(
    panel: OptimizerPanel, session: Session
) -> None:
    panel.editors["delay"].spin.setValue(3)
    assert session.scene.runs[0].hyper["delay"] == 3
    max_delay = panel.editors["max_delay"]
    max_delay.spin.setValue(2)  # the engine refuses delay and max_delay both
    assert "delay" in max_delay.error_text and "not applied" in max_delay.error_text
    assert max_delay.error_label.isVisibleTo(panel)
    assert "max_delay" not in session.scene.runs[0].hyper
    assert max_delay.spin.value() == 2  # what was typed stays, to be corrected
    panel.editors["delay"].spin.setValue(4)
    assert max_delay.spin.value() == 0 and max_delay.error_text == ""


def test_error_raised_shows_in_status(panel: OptimizerPanel, session: Session) -> None:
    session.errorRaised.emit("something went wrong")
    assert panel.status_label.text() == "something went wrong"


# --------------------------------------------------------------------- starts, simulation


def test_start_point_and_grid(panel: OptimizerPanel, session: Session) -> None:
    assert panel.start_x.value() == -1.5 and panel.start_y.value() == 2.0
    panel.start_x.setValue(0.25)
    assert session.scene.runs[0].starts == ((0.25, 2.0),)
    panel.grid_check.setChecked(True)
    assert session.scene.runs[0].grid == (panel.grid_nx.value(), panel.grid_ny.value())
    assert not panel.start_x.isEnabled()
    panel.grid_nx.setValue(3)
    assert session.scene.runs[0].grid[0] == 3
    panel.grid_check.setChecked(False)
    assert session.scene.runs[0].grid is None
    session.select_run(1)
    assert panel.start_x.value() == -1.0 and panel.start_y.value() == 1.0


def test_steps_and_seed(panel: OptimizerPanel, session: Session) -> None:
    assert panel.steps_spin.value() == 40
    depth = session.undo_stack.count()
    panel.steps_spin.stepBy(1)
    panel.steps_spin.stepBy(1)
    assert session.scene.steps == 42
    assert session.undo_stack.count() == depth + 1
    panel.seed_spin.setValue(7)
    assert session.scene.seed == 7
    session.undo_stack.undo()
    assert panel.seed_spin.value() == 0


def test_a_run_added_in_the_window_equals_one_from_the_command_line(
    panel: OptimizerPanel, session: Session
) -> None:
    import argparse

    from studio.commands.scene_args import add_scene_arguments, scene_from_args

    session.replace_scene(Scene(surface=SurfaceSpec(preset="himmelblau"), steps=40))
    panel.add_actions["sgd"].trigger()
    panel.add_actions["adam"].trigger()
    parser = argparse.ArgumentParser()
    add_scene_arguments(parser)
    cli = scene_from_args(
        parser.parse_args(["--surface", "himmelblau", "--optimizer", "sgd", "--optimizer", "adam"])
    )
    assert session.scene.runs == cli.runs


def test_the_settings_never_scroll_sideways(qtbot, window) -> None:
    """Every field of every optimizer shows whole in the dock as the window opens: a long
    label puts its field under it rather than pushing the fields' right ends out of view."""
    from PyQt6.QtWidgets import QScrollArea

    panel = window.findChild(OptimizerPanel)
    scroll = panel.findChild(QScrollArea)
    combo = panel.optimizer_combo
    for index in range(combo.count()):
        combo.setCurrentIndex(index)
        combo.activated.emit(index)
        qtbot.wait(10)  # the new fields' layout settles
        assert scroll.horizontalScrollBar().maximum() == 0, combo.itemText(index)
