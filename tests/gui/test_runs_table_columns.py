"""The runs table never squeezes the Run column, however long an optimizer's title."""

from __future__ import annotations

import pytest

from studio.engine import OPTIMIZERS
from studio.gui.panels.runs_table import (
    COL_NAME,
    COL_OPTIMIZER,
    MIN_NAME_CHARS,
    RunsTable,
)
from studio.gui.session import Session
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

from qt_helpers import shown

LONGEST = max(OPTIMIZERS, key=lambda name: len(OPTIMIZERS[name].title))


def long_titles_scene() -> Scene:
    runs = (
        RunSpec(LONGEST, {"lr": 0.01}, ((-1.5, 2.0),), color=PALETTE[0]),
        RunSpec("adam_noise_training", {"lr": 0.01}, ((-1.0, 1.0),), color=PALETTE[1]),
        RunSpec("sgd", {"lr": 0.001}, ((0.5, 1.0),), color=PALETTE[2], label="baseline"),
    )
    return Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=10)


def text_width(table, text: str) -> int:
    return table.fontMetrics().horizontalAdvance(text)


@pytest.mark.parametrize("width", [240, 300, 360, 460, 700])
def test_the_run_column_keeps_its_names(qtbot, width: int) -> None:
    runs = RunsTable(Session(long_titles_scene(), threaded=False))
    shown(qtbot, runs, (width, 300))
    qtbot.wait(10)
    table = runs.table
    name_w, opt_w = table.columnWidth(COL_NAME), table.columnWidth(COL_OPTIMIZER)
    names = [table.item(r, COL_NAME).text() for r in range(table.rowCount())]
    titles = [table.item(r, COL_OPTIMIZER).text() for r in range(table.rowCount())]
    longest_name = max(text_width(table, t) for t in names)
    longest_title = max(text_width(table, t) for t in titles)
    # Never the ~30 px of before: at least MIN_NAME_CHARS characters, and the names come
    # first, so the Run column is never the narrower one while a name is cut.
    assert name_w >= MIN_NAME_CHARS * table.fontMetrics().averageCharWidth()
    if name_w < longest_name:
        assert name_w >= opt_w
    # Where the table is wide enough, nothing is cut at all.
    room = table.viewport().width() - table.columnWidth(0) - table.columnWidth(1)
    if longest_name + longest_title + 40 <= room:
        assert name_w >= longest_name and opt_w >= longest_title
    assert table.item(0, COL_OPTIMIZER).toolTip().startswith(OPTIMIZERS[LONGEST].title)


def test_columns_follow_a_resize(qtbot) -> None:
    runs = RunsTable(Session(long_titles_scene(), threaded=False))
    shown(qtbot, runs, (700, 300))
    wide = runs.table.columnWidth(COL_NAME)
    runs.resize(260, 300)
    qtbot.wait(10)
    narrow = runs.table.columnWidth(COL_NAME)
    assert narrow <= wide
    assert narrow >= runs.table.columnWidth(COL_OPTIMIZER)
