"""Editing without surprises (issue 15), as a user sees it: undo steps, values the window
accepts, a preset's leftovers. Type or click, assert on the model; change the model,
assert on the widgets."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt

from studio.gui.panels.optimizer_panel import OptimizerPanel
from studio.gui.panels.surface_editor import SurfaceEditor
from studio.gui.session import Session
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec
from studio.surface import PRESETS

from qt_helpers import shown


def make_scene() -> Scene:
    return Scene(
        surface=SurfaceSpec(preset="rosenbrock", height="log1p"),
        runs=(RunSpec("sgd", {"lr": 0.001}, ((-1.5, 2.0),), color=PALETTE[0]),),
        steps=40,
    )


@pytest.fixture
def session() -> Session:
    return Session(make_scene(), threaded=False)


@pytest.fixture
def editor(qtbot, session: Session) -> SurfaceEditor:
    return shown(qtbot, SurfaceEditor(session), (420, 600))


@pytest.fixture
def panel(qtbot, session: Session) -> OptimizerPanel:
    return shown(qtbot, OptimizerPanel(session), (420, 900))


def enter_formula(qtbot, editor: SurfaceEditor, text: str) -> None:
    editor.expression_edit.setFocus()
    editor.expression_edit.selectAll()
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor.expression_edit, text)
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Return)
    # A new formula compiles in a worker; the surface changes when it arrives.
    qtbot.waitUntil(lambda: not editor.compiler.busy, timeout=10_000)


def type_number(qtbot, spin, text: str) -> None:
    """Select the box's text, type `text`, press Enter: what a user does."""
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


# --------------------------------------------------------------------- undo steps


def test_each_formula_entered_is_its_own_undo_step(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    enter_formula(qtbot, editor, "x^2 + y^2")
    assert session.scene.surface.expression == "x^2 + y^2"
    enter_formula(qtbot, editor, "x^2 + 3*y^2")
    assert session.scene.surface.expression == "x^2 + 3*y^2"
    session.undo_stack.undo()  # Ctrl+Z
    assert session.scene.surface.expression == "x^2 + y^2"
    assert editor.expression_edit.text() == "x^2 + y^2"
    session.undo_stack.undo()
    assert session.scene.surface.preset == "rosenbrock"


def test_a_typing_burst_is_one_step(qtbot, editor: SurfaceEditor, session: Session) -> None:
    depth = session.undo_stack.count()
    editor.expression_edit.setFocus()
    editor.expression_edit.selectAll()
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor.expression_edit, "x^2")
    editor.apply_expression()  # the debounce firing mid-burst
    qtbot.keyClicks(editor.expression_edit, " + y^2")
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Return)
    assert session.scene.surface.expression == "x^2 + y^2"
    assert session.undo_stack.count() == depth + 1


def test_each_committed_value_is_its_own_step(
    qtbot, panel: OptimizerPanel, session: Session
) -> None:
    spin = panel.editors["lr"].spin
    type_number(qtbot, spin, "0.002")
    type_number(qtbot, spin, "0.003")
    assert session.scene.runs[0].hyper["lr"] == pytest.approx(0.003)
    session.undo_stack.undo()
    assert session.scene.runs[0].hyper["lr"] == pytest.approx(0.002)
    assert spin.value() == pytest.approx(0.002)


def test_a_slider_release_ends_the_step(panel: OptimizerPanel, session: Session) -> None:
    slider = panel.editors["lr"].slider
    depth = session.undo_stack.count()
    for _ in range(2):  # two drags, each released
        for step in range(5):
            slider.setValue(slider.value() + 10 + step)
        slider.sliderReleased.emit()
    assert session.undo_stack.count() == depth + 2


def test_a_preset_pick_is_not_merged_into_typing(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    enter_formula(qtbot, editor, "x^2 + y^2")
    index = editor.preset_combo.findData("beale")
    editor.preset_combo.setCurrentIndex(index)
    editor.preset_combo.activated.emit(index)
    qtbot.waitUntil(lambda: session.scene.surface.preset == "beale", timeout=10_000)
    session.undo_stack.undo()
    assert session.scene.surface.expression == "x^2 + y^2"


# --------------------------------------------------------------------- values


@pytest.mark.parametrize(
    "text, value", [("20", 20.0), ("1e-6", 1e-6), ("1e-20", 1e-20), ("1e12", 1e12)]
)
def test_the_window_takes_the_learning_rates_the_cli_takes(
    qtbot, panel: OptimizerPanel, session: Session, text: str, value: float
) -> None:
    editor = panel.editors["lr"]
    type_number(qtbot, editor.spin, text)
    assert session.scene.runs[0].hyper["lr"] == pytest.approx(value)
    assert editor.spin.text() == f"{value:g}"
    assert editor.error_text == ""


@pytest.mark.parametrize(
    "key, text, reason",
    [
        ("lr", "-1", "lr must be > 0"),
        ("lr", "0", "lr must be > 0"),
        ("momentum", "1.5", "momentum must be in [0, 1)"),
        ("max_delay", "5000", "max_delay must be in"),
    ],
)
def test_a_value_outside_a_hard_limit_is_refused_with_its_reason(
    qtbot, panel: OptimizerPanel, session: Session, key: str, text: str, reason: str
) -> None:
    if key not in panel.editors:
        session.update_run(0, "momentum", optimizer="momentum", hyper={"lr": 0.001})
    before = session.scene
    editor = panel.editors[key]
    type_number(qtbot, editor.spin, text)
    assert session.scene == before
    assert reason in editor.error_text
    qtbot.waitUntil(lambda: editor.error_label.isVisibleTo(panel))  # a rebuilt form shows late
    assert editor.spin.text() == text  # not silently put back: the user can correct it
    type_number(qtbot, editor.spin, "0.5" if editor.kind == "float" else "3")
    assert editor.error_text == ""


def test_a_start_far_away_is_taken(qtbot, panel: OptimizerPanel, session: Session) -> None:
    type_number(qtbot, panel.start_x, "2e6")
    assert session.scene.runs[0].starts[0][0] == 2e6


# --------------------------------------------------------------------- leaving a preset


def test_custom_formula_drops_the_presets_parameters_and_height(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    assert set(editor._param_rows) == {"a", "b"}
    enter_formula(qtbot, editor, "x^2 + y^2")
    spec = session.scene.surface
    assert dict(spec.params) == {} and spec.height == "auto"
    assert editor.params_edit.text() == ""
    assert not editor._params_box.isVisibleTo(editor)
    assert editor.height_combo.currentData() == "auto"
    session.undo_stack.undo()
    assert editor.params_edit.text() == "a=1, b=100"
    assert editor.height_combo.currentData() == "log1p"


def test_custom_keeps_what_its_formula_uses_until_the_formula_changes(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    index = editor.preset_combo.findData(None)
    editor.preset_combo.setCurrentIndex(index)
    editor.preset_combo.activated.emit(index)
    spec = session.scene.surface
    assert spec.preset is None and spec.expression == PRESETS["rosenbrock"].expression
    assert dict(spec.params) == {"a": 1.0, "b": 100.0} and spec.height == "log1p"
    enter_formula(qtbot, editor, "(a - x)^2 + y^2")
    assert dict(session.scene.surface.params) == {"a": 1.0}
    assert set(editor._param_rows) == {"a"}
    assert session.scene.surface.height == "auto"
