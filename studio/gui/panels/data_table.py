"""The data rows of a data-fit surface in the Surface panel: the loss reduction, a (u, v)
table with add/remove row, "Import CSV…" and a way back to the preset's own rows.

Shown only for a data-fit preset. Every change is one surface edit through the Surface
panel's `edit` (the same path as a formula edit: checked, compiled off the GUI thread when
needed, one undo step each). A cell that is not a finite number, or a CSV file that cannot
be used, shows its reason in one red line and changes nothing
(`studio.surface.datafit.parse_rows_csv` says what a CSV file may hold).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from PyQt6.QtCore import QSignalBlocker
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.errors import StudioError
from studio.gui.session import Session
from studio.scene import MAX_DATA_ROWS, SurfaceSpec
from studio.surface import PRESETS
from studio.surface.datafit import read_rows_file

Rows = tuple[tuple[float, float], ...]
ERROR_STYLE = "color: #d62728;"
VISIBLE_ROWS = 5  # the table's height; more rows scroll
REDUCTION_TITLES = (("mean", "mean over the rows"), ("sum", "sum over the rows"))


def format_value(value: float) -> str:
    return f"{value:.12g}"


class DataPanel(QWidget):
    """See the module docstring. `edit(spec, text)` commits a surface edit (one undo step)."""

    def __init__(
        self,
        session: Session,
        edit: Callable[[SurfaceSpec, str], bool],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._edit = edit
        self._rows: Rows = ()

        self.reduction_combo = QComboBox(self)
        for key, title in REDUCTION_TITLES:
            self.reduction_combo.addItem(title, key)
        self.reduction_combo.setToolTip(
            "reduction — f is the mean (default) or the sum of the row loss over the rows; "
            "a mini-batch gradient likewise. Articles that sum the gradient over their rows "
            "reproduce with their learning rate as written under 'sum'"
        )
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["u", "v"])
        self.table.setToolTip("The data rows (u, v); double-click a cell to edit it")
        header = self.table.horizontalHeader()
        if header is not None:
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        row_height = self.table.verticalHeader().defaultSectionSize()  # type: ignore[union-attr]
        self.table.setFixedHeight(row_height * (VISIBLE_ROWS + 1) + 4)

        self.add_button = QPushButton("Add row", self)
        self.add_button.setToolTip("Append a row (a copy of the last one)")
        self.remove_button = QPushButton("Remove row", self)
        self.remove_button.setToolTip("Remove the selected row (the last one if none is)")
        self.import_button = QPushButton("Import CSV…", self)
        self.import_button.setToolTip(
            f"Replace the rows by a CSV file's: a u,v header (or none), two numbers a line, "
            f"at most {MAX_DATA_ROWS:,} rows"
        )
        self.reset_button = QPushButton("Preset rows", self)
        self.reset_button.setToolTip("Back to the preset's own data rows")
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.count_label = QLabel(self)

        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.import_button, self.reset_button):
            buttons.addWidget(button)
        reduction = QHBoxLayout()
        reduction.addWidget(QLabel("Loss", self))
        reduction.addWidget(self.reduction_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(reduction)
        layout.addWidget(self.count_label)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.error_label)

        self.reduction_combo.activated.connect(self._on_reduction)
        self.table.cellChanged.connect(self._on_cell)
        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self.remove_row)
        self.import_button.clicked.connect(self._on_import)
        self.reset_button.clicked.connect(self.reset_rows)

    # ------------------------------------------------------------------ model → widgets

    @property
    def spec(self) -> SurfaceSpec:
        return self.session.scene.surface

    @property
    def rows(self) -> Rows:
        """The rows shown: the scene's own, else its preset's."""
        return self._rows

    def refresh(self, spec: SurfaceSpec) -> bool:
        """Show `spec`'s rows; hidden (returns False) unless it is a data-fit preset."""
        preset = PRESETS.get(spec.preset or "")
        data_fit = bool(preset is not None and preset.data_fit and spec.network is None)
        self.setVisible(data_fit)
        if not data_fit or preset is None:
            return False
        rows = spec.data if spec.data is not None else preset.data
        with QSignalBlocker(self.reduction_combo):
            self.reduction_combo.setCurrentIndex(
                max(0, self.reduction_combo.findData(spec.reduction))
            )
        if rows != self._rows or self.table.rowCount() != len(rows):
            self._rows = rows
            with QSignalBlocker(self.table):
                self.table.setRowCount(len(rows))
                for i, (u, v) in enumerate(rows):
                    for j, value in enumerate((u, v)):
                        self.table.setItem(i, j, QTableWidgetItem(format_value(value)))
        own = spec.data is not None
        self.count_label.setText(
            f"{len(rows)} rows" + (" (the scene's own)" if own else " (the preset's)")
        )
        self.reset_button.setEnabled(own)
        self.remove_button.setEnabled(len(rows) > 1)
        return True

    def show_error(self, text: str | None) -> None:
        self.error_label.setText(text or "")
        self.error_label.setVisible(bool(text))

    @property
    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() else ""

    # ------------------------------------------------------------------ widget → model

    def set_rows(self, rows: Rows, text: str) -> bool:
        """Make `rows` the scene's data rows as one undo step (False, with the reason shown,
        if they cannot be used)."""
        if not 1 <= len(rows) <= MAX_DATA_ROWS:
            self.show_error(f"a data fit needs 1 to {MAX_DATA_ROWS:,} rows")
            return False
        self.show_error(None)
        return self._edit(dataclasses.replace(self.spec, data=tuple(rows)), text)

    def set_reduction(self, reduction: str) -> bool:
        if reduction == self.spec.reduction:
            return True
        return self._edit(dataclasses.replace(self.spec, reduction=reduction), "Loss reduction")

    def add_row(self) -> bool:
        last = self._rows[-1] if self._rows else (0.0, 0.0)
        return self.set_rows((*self._rows, last), "Add data row")

    def remove_row(self) -> bool:
        if len(self._rows) <= 1:
            self.show_error("a data fit needs at least one row")
            return False
        index = self.table.currentRow()
        index = index if 0 <= index < len(self._rows) else len(self._rows) - 1
        return self.set_rows(self._rows[:index] + self._rows[index + 1 :], "Remove data row")

    def reset_rows(self) -> bool:
        self.show_error(None)
        if self.spec.data is None:
            return True
        return self._edit(dataclasses.replace(self.spec, data=None), "Preset data rows")

    def import_csv(self, path: str) -> bool:
        """Replace the rows by the CSV file's; on any problem the reason shows, nothing changes."""
        try:
            rows = read_rows_file(path)
        except StudioError as exc:
            self.show_error(str(exc))
            return False
        return self.set_rows(rows, "Import data rows")

    def set_cell(self, row: int, column: int, text: str) -> bool:
        """Set u (column 0) or v (1) of `row` from typed text; refused with the reason
        shown (and the cell restored) unless it is a finite number."""
        try:
            value = float(text.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not 0 <= row < len(self._rows):
            self.show_error(
                f"row {row + 1}, {'uv'[column]}: {text.strip()!r} is not a finite number"
            )
            self._restore(row, column)
            return False
        u, v = self._rows[row]
        new = (value, v) if column == 0 else (u, value)
        rows = self._rows[:row] + (new,) + self._rows[row + 1 :]
        if not self.set_rows(rows, "Edit data row"):
            self._restore(row, column)
            return False
        return True

    def _restore(self, row: int, column: int) -> None:
        if 0 <= row < len(self._rows):
            with QSignalBlocker(self.table):
                item = self.table.item(row, column)
                if item is not None:
                    item.setText(format_value(self._rows[row][column]))

    def _on_cell(self, row: int, column: int) -> None:
        item = self.table.item(row, column)
        if item is not None:
            self.set_cell(row, column, item.text())
            self.session.seal_edits()

    def _on_reduction(self, index: int) -> None:
        self.set_reduction(str(self.reduction_combo.itemData(index)))

    def _on_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import data rows", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        if path:
            self.import_csv(path)
