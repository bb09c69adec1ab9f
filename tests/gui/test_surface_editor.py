"""SurfaceEditor: model → widget and widget → model, through the undoable session."""

from __future__ import annotations

import dataclasses
import time

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication

from studio.gui.panels.surface_editor import (
    DEBOUNCE_MS,
    ParamsError,
    SurfaceEditor,
    parse_params,
)
from studio.gui.session import Session
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec
from studio.surface import PRESETS


def make_scene(surface: SurfaceSpec | None = None) -> Scene:
    return Scene(
        surface=surface or SurfaceSpec(preset="rosenbrock"),
        runs=(
            RunSpec("sgd", {"lr": 0.001}, ((-1.5, 2.0),), color=PALETTE[0]),
            RunSpec("adam", {"lr": 0.01}, ((-1.5, 2.0),), color=PALETTE[1]),
        ),
        steps=40,
    )


@pytest.fixture
def session() -> Session:
    return Session(make_scene(), threaded=False)


def type_expression(qtbot, editor: SurfaceEditor, text: str) -> None:
    editor.expression_edit.selectAll()
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor.expression_edit, text)


def pick(editor: SurfaceEditor, name: str | None) -> None:
    """Choose a preset the way a user does: the combo's `activated` signal."""
    index = editor.preset_combo.findData(name)
    assert index >= 0
    editor.preset_combo.setCurrentIndex(index)
    editor.preset_combo.activated.emit(index)
    # A preset's first pick compiles in the worker: wait until it has landed.
    deadline = time.monotonic() + 10
    while editor.compiler.busy and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)
    assert not editor.compiler.busy


# --------------------------------------------------------------------- model → widget


def test_shows_the_preset_formula_domain_and_gradient(
    editor: SurfaceEditor, session: Session
) -> None:
    assert editor.preset_combo.currentData() == "rosenbrock"
    assert editor.expression_edit.text() == PRESETS["rosenbrock"].expression
    assert tuple(s.value() for s in editor.domain_spins) == session.surface.domain
    text = editor.gradient_label.text()
    assert "∂f/∂x = " in text and "∂f/∂y = " in text
    assert session.surface.gradient_text[0] in text
    assert (
        editor.gradient_label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    )
    assert editor.preset_combo.itemText(editor.preset_combo.count() - 1) == "Custom"
    assert editor.preset_combo.count() == len(PRESETS) + 1


def test_follows_scene_edits_and_undo(editor: SurfaceEditor, session: Session) -> None:
    spec = SurfaceSpec(
        preset=None, expression="x**2 + 3*y**2", domain=(-1.0, 2.0, -3.0, 4.0), height="linear"
    )
    assert session.edit_scene(dataclasses.replace(session.scene, surface=spec), "Set")
    assert editor.preset_combo.currentText() == "Custom"
    assert editor.expression_edit.text() == "x**2 + 3*y**2"
    assert [s.value() for s in editor.domain_spins] == [-1.0, 2.0, -3.0, 4.0]
    assert editor.height_combo.currentData() == "linear"
    session.undo_stack.undo()
    assert editor.preset_combo.currentData() == "rosenbrock"
    assert editor.expression_edit.text() == PRESETS["rosenbrock"].expression
    assert editor.height_combo.currentData() == "auto"


def test_run_edits_leave_a_half_typed_formula_alone(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    type_expression(qtbot, editor, "x + ")
    session.update_run(0, "lr", hyper={"lr": 0.002})
    assert editor.expression_edit.text() == "x + "


# --------------------------------------------------------------------- widget → model


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("x +", 4),
        ("foo(x)", 1),
        ("__import__('os')", None),
        ("x + z", 5),
    ],
)
def test_bad_formula_shows_error_and_keeps_surface(
    qtbot, editor: SurfaceEditor, session: Session, text: str, column: int | None
) -> None:
    scene, surface, depth = session.scene, session.surface, session.undo_stack.count()
    type_expression(qtbot, editor, text)
    qtbot.waitUntil(lambda: bool(editor.error_text), timeout=3000)
    assert "\n" not in editor.error_text
    assert "column" in editor.error_text
    assert editor.error_marker.column is not None
    if column is not None:
        assert editor.error_marker.column == column
        assert f"at column {column}" in editor.error_text
    assert session.scene is scene
    assert session.surface is surface
    assert session.undo_stack.count() == depth
    assert editor.expression_edit.text() == text  # the user's text is not thrown away


def test_unknown_name_message_and_caret(qtbot, editor: SurfaceEditor) -> None:
    type_expression(qtbot, editor, "x + z")
    qtbot.waitUntil(lambda: bool(editor.error_text), timeout=3000)
    assert editor.error_text == "unknown name 'z' at column 5"
    assert editor.error_label.styleSheet().startswith("color: #d62728")
    # The caret sits under the 'z', to the right of where 'x' is drawn.
    marker = editor.error_marker
    assert marker.caret_x() > editor.expression_edit.fontMetrics().horizontalAdvance("x + ")


def test_good_formula_is_debounced_then_becomes_the_surface(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    old_surface = session.surface
    type_expression(qtbot, editor, "x**2 + 10*y**2")
    # Nothing happens per keystroke: only after the pause.
    assert session.surface is old_surface
    qtbot.waitUntil(
        lambda: session.scene.surface.expression == "x**2 + 10*y**2", timeout=DEBOUNCE_MS * 8
    )
    assert session.surface is not old_surface
    assert session.scene.surface.preset is None
    # It keeps the domain it was drawn on rather than jumping to a default.
    assert session.scene.surface.domain == old_surface.domain
    assert editor.preset_combo.currentText() == "Custom"
    assert editor.error_text == ""
    session.undo_stack.undo()
    assert session.scene.surface.preset == "rosenbrock"
    assert editor.expression_edit.text() == PRESETS["rosenbrock"].expression


def test_error_clears_once_the_formula_is_fixed(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    type_expression(qtbot, editor, "x + z")
    qtbot.waitUntil(lambda: bool(editor.error_text), timeout=3000)
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor.expression_edit, "y")
    qtbot.waitUntil(lambda: session.scene.surface.expression == "x + y", timeout=3000)
    assert editor.error_text == ""
    assert editor.error_marker.column is None


def test_return_applies_at_once_and_moves_the_cursor_to_the_error(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    type_expression(qtbot, editor, "x + z*y")
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Return)
    assert editor.error_text == "unknown name 'z' at column 5"
    assert editor.expression_edit.cursorPosition() == 4
    assert session.scene.surface.preset == "rosenbrock"


def test_picking_a_preset_moves_starts_and_is_one_undo_step(
    editor: SurfaceEditor, session: Session
) -> None:
    target = next(
        name for name, p in PRESETS.items() if name != "rosenbrock" and p.starts and not p.data_fit
    )
    preset = PRESETS[target]
    before, depth = session.scene, session.undo_stack.count()
    pick(editor, target)
    scene = session.scene
    assert scene.surface.preset == target
    assert scene.surface.domain == tuple(preset.domain)
    assert dict(scene.surface.params) == dict(preset.params)
    first = tuple(map(float, preset.starts[0]))
    assert all(run.starts == (first,) for run in scene.runs)
    for run, old in zip(scene.runs, before.runs, strict=True):
        for key, value in preset.suggested.get(run.optimizer, {}).items():
            assert run.hyper[key] == value
        assert run.color == old.color and run.optimizer == old.optimizer
    assert session.undo_stack.count() == depth + 1
    assert editor.expression_edit.text() == preset.expression
    session.undo_stack.undo()
    assert session.scene == before
    assert editor.preset_combo.currentData() == "rosenbrock"


def test_preset_suggestions_are_applied(editor: SurfaceEditor, session: Session) -> None:
    target = next(
        (
            name
            for name, p in PRESETS.items()
            if not p.data_fit and any(p.suggested.get(o) for o in ("sgd", "adam"))
        ),
        None,
    )
    if target is None:
        pytest.skip("no preset suggests hyperparameters for sgd or adam")
    pick(editor, target)
    for run in session.scene.runs:
        for key, value in PRESETS[target].suggested.get(run.optimizer, {}).items():
            assert run.hyper[key] == value


def test_custom_entry_keeps_the_formula_and_domain(editor: SurfaceEditor, session: Session) -> None:
    domain = session.surface.domain
    pick(editor, None)
    spec = session.scene.surface
    assert spec.preset is None
    assert spec.expression == PRESETS["rosenbrock"].expression
    assert spec.domain == domain


def test_data_fit_formula_edit_keeps_the_data(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    target = next((name for name, p in PRESETS.items() if p.data_fit), None)
    if target is None:
        pytest.skip("no data-fit preset")
    pick(editor, target)
    n_rows = session.surface.n_rows
    assert n_rows > 0
    text = PRESETS[target].expression + " + 0*x"
    type_expression(qtbot, editor, text)
    qtbot.waitUntil(lambda: session.scene.surface.expression == text, timeout=3000)
    assert session.scene.surface.preset == target
    assert session.surface.n_rows == n_rows
    pick(editor, None)  # Custom would lose the data rows: refused, and said why
    assert "data" in editor.error_text
    assert session.scene.surface.preset == target
    assert editor.preset_combo.currentData() == target


def test_domain_needs_min_below_max(editor: SurfaceEditor, session: Session) -> None:
    before = session.scene
    xmin, xmax, _, _ = (s.value() for s in editor.domain_spins)
    editor.domain_spins[0].setValue(xmax + 1.0)
    assert "min" in editor.error_text
    assert session.scene is before
    editor.domain_spins[0].setValue(xmin - 1.0)
    assert session.scene.surface.domain[0] == xmin - 1.0
    assert editor.error_text == ""


def test_domain_spin_scrolling_is_one_undo_step(editor: SurfaceEditor, session: Session) -> None:
    depth = session.undo_stack.count()
    for _ in range(5):
        editor.domain_spins[1].stepBy(1)
    assert session.undo_stack.count() == depth + 1
    assert session.scene.surface.domain[1] > session.surface.domain[0]


def test_height_mode(editor: SurfaceEditor, session: Session) -> None:
    index = editor.height_combo.findData("log1p")
    editor.height_combo.setCurrentIndex(index)
    editor.height_combo.activated.emit(index)
    assert session.scene.surface.height == "log1p"


# --------------------------------------------------------------------- parameters


def test_parse_params() -> None:
    assert parse_params("a=1, b = 100") == {"a": 1.0, "b": 100.0}
    assert parse_params("") == {}
    for bad in ("a", "x=1", "a=1, a=2", "a=nan", "a=b", "1a=2"):
        with pytest.raises(ParamsError):
            parse_params(bad)


def test_declared_parameters_get_sliders(qtbot, editor: SurfaceEditor, session: Session) -> None:
    spec = SurfaceSpec(preset=None, expression="a*x**2 + b*y**2", params={"a": 1.0, "b": 4.0})
    session.edit_scene(dataclasses.replace(session.scene, surface=spec), "Set")
    assert set(editor._param_rows) == {"a", "b"}
    assert editor.params_edit.text() == "a=1, b=4"
    row = editor._param_rows["b"]
    assert row.spin.value() == 4.0
    depth = session.undo_stack.count()
    row.slider.setValue(row.slider.value() + 50)
    row.slider.setValue(row.slider.value() + 50)
    assert session.scene.surface.params["b"] != 4.0
    assert session.undo_stack.count() == depth + 1  # a drag is one step
    row.spin.setValue(2.5)
    assert session.scene.surface.params["b"] == 2.5
    session.undo_stack.undo()
    assert session.scene.surface.params["b"] == 4.0
    assert row.spin.value() == 4.0


def test_params_line_declares_names_for_a_custom_formula(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    pick(editor, None)
    # Rosenbrock's formula uses a and b: dropping them is refused with the parser's reason.
    editor.params_edit.setText("k=3")
    editor.params_edit.editingFinished.emit()
    assert "unknown name 'a'" in editor.error_text
    assert session.scene.surface.params == {"a": 1.0, "b": 100.0}
    editor.params_edit.setText("a=1, b=100, k=3")
    editor.params_edit.editingFinished.emit()
    assert session.scene.surface.params == {"a": 1.0, "b": 100.0, "k": 3.0}
    assert set(editor._param_rows) == {"a", "b", "k"}
    type_expression(qtbot, editor, "k*x**2 + y**2")
    qtbot.waitUntil(lambda: session.scene.surface.expression == "k*x**2 + y**2", timeout=3000)
    assert editor.error_text == ""
    # The new formula leaves Rosenbrock's: its a and b go, the declared k stays.
    assert session.scene.surface.params == {"k": 3.0}
    assert set(editor._param_rows) == {"k"}
    editor.params_edit.setText("k=abc")
    editor.params_edit.editingFinished.emit()
    assert "not a number" in editor.error_text
    assert session.scene.surface.params == {"k": 3.0}


def test_preset_parameters_are_editable(editor: SurfaceEditor, session: Session) -> None:
    target = next((name for name, p in PRESETS.items() if p.params and not p.data_fit), None)
    if target is None:
        pytest.skip("no preset declares parameters")
    pick(editor, target)
    name, value = next(iter(PRESETS[target].params.items()))
    row = editor._param_rows[name]
    row.spin.setValue(float(value) + 0.5)
    assert session.scene.surface.params[name] == float(value) + 0.5
    assert session.scene.surface.preset == target
