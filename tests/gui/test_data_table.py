"""The Surface panel's data rows: reduction, table edits, CSV import, undo; run-form keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtWidgets import QTableWidgetItem

from studio.gui.panels.run_form import RunForm
from studio.gui.panels.surface_editor import SurfaceEditor
from studio.gui.session import Session
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec
from studio.surface import PRESETS


def make_scene(preset: str = "sigmoid_neuron") -> Scene:
    return Scene(
        surface=SurfaceSpec(preset=preset),
        runs=(RunSpec("sgd", {"lr": 1.0}, ((-2.0, -2.0),), color=PALETTE[0]),),
        steps=20,
    )


@pytest.fixture
def session() -> Session:
    return Session(make_scene(), threaded=False)


def test_table_shows_the_preset_rows_only_for_a_data_fit_surface(
    editor: SurfaceEditor, session: Session
) -> None:
    panel = editor.data_panel
    assert panel.isVisible()
    assert panel.table.rowCount() == 2
    assert [panel.table.item(1, j).text() for j in range(2)] == ["2.5", "0.9"]
    assert "preset" in panel.count_label.text()
    session.edit_scene(make_scene("rosenbrock"), "to rosenbrock")
    assert not panel.isVisible()


def test_sum_reduction_changes_the_surface_and_its_formula(
    editor: SurfaceEditor, session: Session
) -> None:
    panel = editor.data_panel
    mean = float(session.surface.value(np.array([[-2.0, -2.0]]))[0])
    index = panel.reduction_combo.findData("sum")
    panel.reduction_combo.setCurrentIndex(index)
    panel.reduction_combo.activated.emit(index)
    assert session.scene.surface.reduction == "sum"
    assert session.surface.expression.startswith("sum over 2 rows")
    assert session.surface.latex.startswith(r"\sum_{i=1}^{2}")
    assert float(session.surface.value(np.array([[-2.0, -2.0]]))[0]) == pytest.approx(2 * mean)
    session.undo_stack.undo()
    assert session.scene.surface.reduction == "mean"
    assert panel.reduction_combo.currentData() == "mean"


def test_cell_edits_add_and_remove_are_undo_steps(editor: SurfaceEditor, session: Session) -> None:
    panel = editor.data_panel
    depth = session.undo_stack.count()
    panel.table.setItem(0, 1, QTableWidgetItem("0.25"))  # a user's edit of v in row 1
    assert session.scene.surface.data == ((0.5, 0.25), (2.5, 0.9))
    assert "scene's own" in panel.count_label.text()
    assert panel.add_row()
    assert session.surface.n_rows == 3
    panel.table.setCurrentCell(0, 0)
    assert panel.remove_row()
    assert session.scene.surface.data == ((2.5, 0.9), (2.5, 0.9))
    assert session.undo_stack.count() == depth + 3
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert session.scene.surface.data == ((0.5, 0.25), (2.5, 0.9))
    assert panel.table.item(0, 1).text() == "0.25"
    assert panel.reset_rows()
    assert session.scene.surface.data is None


def test_a_bad_cell_is_refused_with_its_reason(editor: SurfaceEditor, session: Session) -> None:
    panel = editor.data_panel
    before, depth = session.scene, session.undo_stack.count()
    panel.table.setItem(1, 0, QTableWidgetItem("inf"))
    assert "row 2, u" in panel.error_text and "finite" in panel.error_text
    assert panel.table.item(1, 0).text() == "2.5"  # restored
    panel.table.setItem(1, 0, QTableWidgetItem("abc"))
    assert "not a finite number" in panel.error_text
    assert session.scene == before and session.undo_stack.count() == depth
    assert not panel.remove_row() or session.surface.n_rows == 1
    assert not panel.remove_row()
    assert "at least one row" in panel.error_text


def test_import_csv(editor: SurfaceEditor, session: Session, tmp_path: Path) -> None:
    panel = editor.data_panel
    good = tmp_path / "rows.csv"
    good.write_text("u,v\n0.1,0.2\n0.3,0.4\n1e1,-2\n", encoding="utf-8")
    assert panel.import_csv(str(good))
    assert session.scene.surface.data == ((0.1, 0.2), (0.3, 0.4), (10.0, -2.0))
    assert panel.table.rowCount() == 3 and panel.error_text == ""
    bare = tmp_path / "bare.csv"
    bare.write_text("1,2\n3,4\n", encoding="utf-8")
    assert panel.import_csv(str(bare))
    assert session.scene.surface.data == ((1.0, 2.0), (3.0, 4.0))
    before = session.scene
    for name, text, reason in (
        ("cols.csv", "u,v\n1,2,3\n", "line 2 is not two numbers"),
        ("word.csv", "u,v\n1,x\n", "line 2 is not two numbers"),
        ("nan.csv", "u,v\n1,nan\n", "line 2 is not finite"),
        ("head.csv", "a,b\n1,2\n", "header u,v"),
        ("empty.csv", "u,v\n", "no data rows"),
        ("big.csv", "u,v\n" + "1,2\n" * 501, "at most 500"),
    ):
        bad = tmp_path / name
        bad.write_text(text, encoding="utf-8")
        assert not panel.import_csv(str(bad))
        assert reason in panel.error_text, (name, panel.error_text)
        assert session.scene == before  # nothing lost
    assert not panel.import_csv(str(tmp_path / "missing.csv"))
    assert "cannot read" in panel.error_text


def test_run_form_offers_batch_order_and_stop_on_with_labels(qtbot) -> None:
    session = Session(make_scene("line_fit"), threaded=False)
    form = RunForm(session)
    qtbot.addWidget(form)
    form.refresh()
    order, stop = form.editors["batch_order"], form.editors["stop_on"]
    assert order.combo is not None and stop.combo is not None
    assert [order.combo.itemText(i) for i in range(order.combo.count())] == [
        "reshuffled each epoch",
        "in order",
    ]
    assert stop.combo.itemText(1) == "validation loss"
    assert "batch_order" in order.combo.toolTip() or "batch_order" in order.toolTip()
    assert form.set_hyper("batch_order", "in_order")
    assert session.scene.runs[0].hyper["batch_order"] == "in_order"
    plain = Session(make_scene("rosenbrock"), threaded=False)
    other = RunForm(plain)
    qtbot.addWidget(other)
    other.refresh()
    assert "batch_order" not in other.editors and "stop_on" not in other.editors
    assert PRESETS["line_fit"].data_fit
