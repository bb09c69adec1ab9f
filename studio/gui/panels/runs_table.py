"""The runs of the scene: a table (enabled, colour swatch, name, optimizer) with Add (a menu
of every optimizer in the engine registry), Duplicate and Remove.

A new run gets the defaults of `studio.editing.new_run` (the same as an `--optimizer` on
the command line). The Run column is laid out first: it gets the width its longest name needs
(never under `MIN_NAME_CHARS` characters), the Optimizer column what is left (never under
`MIN_OPTIMIZER_CHARS`, its title elided, whole in the tooltip); a table too narrow for both
scrolls sideways instead of squeezing the names. Widget → model through
`Session.edit_scene`/`update_run`, one undo step each; model → widget on sceneChanged and
selectedRunChanged, under QSignalBlocker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PyQt6.QtCore import QEvent, QObject, QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QColor, QIcon, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.editing import new_run, next_color
from studio.engine import OPTIMIZERS, run_label, run_labels
from studio.gui.session import Session
from studio.scene import MAX_RUNS, RunSpec

COL_ENABLED, COL_COLOR, COL_NAME, COL_OPTIMIZER = range(4)
MIN_NAME_CHARS = 14  # the Run column never gets narrower than this many average chars
MIN_OPTIMIZER_CHARS = 7  # nor the Optimizer column (its title is elided below its need)
CELL_PADDING_PX = 18  # a cell's margins and the frame around the text

ColorPicker = Callable[[QColor, QWidget], QColor]


def pick_color_dialog(initial: QColor, parent: QWidget) -> QColor:
    """The standard colour dialog; an invalid QColor when cancelled."""
    return QColorDialog.getColor(initial, parent, "Run colour")


def swatch_icon(color: str, side: int = 14) -> QIcon:
    """A square of `color`, the same in every state: Qt tints a plain QColor decoration
    with the highlight on the selected row (orange reads as brown)."""
    pixmap = QPixmap(side, side)
    pixmap.fill(QColor(color))
    icon = QIcon()
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
        icon.addPixmap(pixmap, mode)
    return icon


class RunsTable(QWidget):
    """The runs list and its buttons; `refused(reason)` when an edit cannot be made."""

    refused = pyqtSignal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._shown_runs: tuple[RunSpec, ...] | None = None  # the runs the rows show
        # Tests replace this to avoid a modal dialog; the app uses QColorDialog.
        self.color_picker: ColorPicker = pick_color_dialog

        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["On", "Colour", "Run", "Optimizer"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_ENABLED, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_COLOR, QHeaderView.ResizeMode.ResizeToContents)
        # Run and Optimizer share the width by `fit_columns`, not by Qt's stretch, which
        # gave a long optimizer title its whole width and left the names ~30 px.
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_OPTIMIZER, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        viewport = self.table.viewport()
        assert viewport is not None
        viewport.installEventFilter(self)
        self.table.setMinimumHeight(120)
        self.table.setToolTip(
            "The scene's runs: tick to show, click a colour to change it, "
            "double-click a name to rename"
        )

        self.add_button = QToolButton(self)
        self.add_button.setText("Add")
        self.add_button.setToolTip("Add a run with another optimizer")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self.add_button)
        self.add_actions: dict[str, QAction] = {}
        for name, info in OPTIMIZERS.items():
            action = self.add_menu.addAction(info.title)
            assert action is not None
            action.setToolTip(info.doc)
            action.triggered.connect(lambda _checked=False, n=name: self.add_run(n))
            self.add_actions[name] = action
        self.add_button.setMenu(self.add_menu)
        self.duplicate_button = QPushButton("Duplicate", self)
        self.duplicate_button.setToolTip("Add a copy of the selected run in the next free colour")
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected run (Undo brings it back)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.duplicate_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        # ---- widget → model
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.duplicate_button.clicked.connect(self.duplicate_run)
        self.remove_button.clicked.connect(self.remove_run)

        # ---- model → widget
        # A surface edit (a slider dragged) leaves the runs as they were: nothing to redo.
        session.sceneChanged.connect(
            lambda scene: None if scene.runs == self._shown_runs else self.refresh()
        )
        session.selectedRunChanged.connect(self._select_row)
        self.refresh()

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return super().eventFilter(watched, event)

    def fit_columns(self) -> None:
        """Widths of the Run and Optimizer columns for the table's width (module docstring)."""
        header = self.table.horizontalHeader()
        viewport = self.table.viewport()
        if header is None or viewport is None:
            return
        fm = self.table.fontMetrics()
        char = fm.averageCharWidth()

        def want(col: int) -> int:
            title = self.table.horizontalHeaderItem(col)
            texts = [title.text() if title is not None else ""] + [
                item.text()
                for row in range(self.table.rowCount())
                if (item := self.table.item(row, col)) is not None
            ]
            return max(fm.horizontalAdvance(t) for t in texts) + CELL_PADDING_PX

        name_want, opt_want = want(COL_NAME), want(COL_OPTIMIZER)
        opt_min = min(opt_want, MIN_OPTIMIZER_CHARS * char + CELL_PADDING_PX)
        name_min = min(name_want, MIN_NAME_CHARS * char + CELL_PADDING_PX)
        room = viewport.width() - header.sectionSize(COL_ENABLED) - header.sectionSize(COL_COLOR)
        if name_want + opt_want <= room:
            name, opt = room - opt_want, opt_want  # everything whole; names take the rest
        else:
            name = max(name_min, min(name_want, room - opt_min))
            opt = max(opt_min, room - name)
        with QSignalBlocker(header):
            header.resizeSection(COL_NAME, name)
            header.resizeSection(COL_OPTIMIZER, opt)

    def _run(self) -> RunSpec | None:
        index = self.session.selected_run
        runs = self.session.scene.runs
        return runs[index] if 0 <= index < len(runs) else None

    # ------------------------------------------------------------------ widget → model

    def new_run(self, optimizer: str) -> RunSpec:
        """A run of `optimizer` for the current scene (`studio.editing.new_run`), started
        near the selected run when the surface has no classic start."""
        current = self._run()
        near = current.starts[0] if current is not None and current.starts else None
        surface = self.session.surface
        return new_run(
            self.session.scene, optimizer, near=near, domain=surface.domain, objective=surface
        )

    def _edit_runs(self, runs: tuple[RunSpec, ...], text: str, select: int) -> bool:
        if len(runs) > MAX_RUNS:
            self.refused.emit(f"a scene holds at most {MAX_RUNS} runs")
            return False
        ok = self.session.edit_scene(dataclasses.replace(self.session.scene, runs=runs), text)
        if ok:
            self.session.select_run(select)
        return ok

    def add_run(self, optimizer: str) -> bool:
        runs = self.session.scene.runs + (self.new_run(optimizer),)
        return self._edit_runs(runs, f"Add {OPTIMIZERS[optimizer].title}", len(runs) - 1)

    def duplicate_run(self) -> bool:
        run = self._run()
        if run is None:
            return False
        copy = dataclasses.replace(
            run,
            color=next_color(self.session.scene.runs),
            label=f"{run.label} copy" if run.label else "",
        )
        runs = self.session.scene.runs + (copy,)
        return self._edit_runs(runs, f"Duplicate {run_label(run)}", len(runs) - 1)

    def remove_run(self) -> bool:
        index = self.session.selected_run
        runs = self.session.scene.runs
        if not 0 <= index < len(runs):
            return False
        rest = runs[:index] + runs[index + 1 :]
        return self._edit_runs(rest, f"Remove {run_label(runs[index])}", min(index, len(rest) - 1))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        row, col = item.row(), item.column()
        runs = self.session.scene.runs
        if not 0 <= row < len(runs):
            return
        run = runs[row]
        if col == COL_ENABLED:
            enabled = item.checkState() == Qt.CheckState.Checked
            if enabled != run.enabled:
                self.session.update_run(
                    row, "Enable run" if enabled else "Disable run", enabled=enabled
                )
        elif col == COL_NAME:
            label = item.text().strip()
            if label not in (run_label(run), run_labels(runs)[row]):
                self.session.update_run(row, "Rename run", label=label)
            elif label != item.text():
                self.refresh()

    def _on_cell_clicked(self, row: int, col: int) -> None:
        if col == COL_COLOR:
            self.choose_color(row)

    def choose_color(self, row: int) -> bool:
        runs = self.session.scene.runs
        if not 0 <= row < len(runs):
            return False
        color = self.color_picker(QColor(runs[row].color), self)
        if not color.isValid():
            return False
        return self.session.update_run(row, "Run colour", color=color.name().lower())

    def _on_table_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.session.select_run(rows[0].row())

    # ------------------------------------------------------------------ model → widget

    def refresh(self) -> None:
        runs = self._shown_runs = self.session.scene.runs
        table = self.table
        with QSignalBlocker(table):
            table.setRowCount(len(runs))
            names = run_labels(runs)
            for row, run in enumerate(runs):
                enabled = self._item(row, COL_ENABLED, editable=False, checkable=True)
                state = Qt.CheckState.Checked if run.enabled else Qt.CheckState.Unchecked
                if enabled.checkState() != state:
                    enabled.setCheckState(state)
                swatch = self._item(row, COL_COLOR, editable=False)
                # A decoration square, not the cell background, so the colour stays
                # visible on the selected (highlighted) row.
                swatch.setData(Qt.ItemDataRole.DecorationRole, swatch_icon(run.color))
                swatch.setToolTip(f"{run.color}: click to change")
                name = self._item(row, COL_NAME, editable=True)
                if name.text() != names[row]:
                    name.setText(names[row])
                name.setToolTip(f"{names[row]}: double-click to rename")
                info = OPTIMIZERS.get(run.optimizer)
                optimizer = self._item(row, COL_OPTIMIZER, editable=False)
                optimizer.setText(info.title if info is not None else run.optimizer)
                optimizer.setToolTip(
                    f"{info.title} ({run.optimizer}): {info.doc}"
                    if info is not None
                    else run.optimizer
                )
            self._select_row(self.session.selected_run)
        self.fit_columns()
        has_run = 0 <= self.session.selected_run < len(runs)
        self.duplicate_button.setEnabled(has_run and len(runs) < MAX_RUNS)
        self.remove_button.setEnabled(has_run)
        self.add_button.setEnabled(len(runs) < MAX_RUNS)

    def _item(
        self, row: int, col: int, *, editable: bool, checkable: bool = False
    ) -> QTableWidgetItem:
        item = self.table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
            if editable:
                flags |= Qt.ItemFlag.ItemIsEditable
            if checkable:
                flags |= Qt.ItemFlag.ItemIsUserCheckable
                item.setCheckState(Qt.CheckState.Checked)
            item.setFlags(flags)
            self.table.setItem(row, col, item)
        return item

    def _select_row(self, row: int) -> None:
        with QSignalBlocker(self.table):
            if row < 0:
                self.table.clearSelection()
            elif self.table.currentRow() != row or not self.table.selectedItems():
                self.table.selectRow(row)
        has_run = 0 <= row < len(self.session.scene.runs)
        self.duplicate_button.setEnabled(has_run and len(self.session.scene.runs) < MAX_RUNS)
        self.remove_button.setEnabled(has_run)
