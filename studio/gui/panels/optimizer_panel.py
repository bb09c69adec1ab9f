"""The optimizer panel: the runs of the scene and the settings of the selected one.

Top: a table of runs (enabled, colour swatch, name, optimizer) with Add (a menu of every
optimizer in the engine registry), Duplicate and Remove. Below: a form for the selected run,
built from the registry's metadata (never from a list of keys written here): the optimizer's
own keys, the schedule with its keys, noise, batch size (only on a data-fit surface),
staleness and stopping; then the run's start point (or an nx×ny grid of starts) and the
scene's steps and seed.

Widget → model: every control calls `Session.update_run`/`edit_scene` with a merge key, so
dragging a slider or scrolling a spin box is one undo step. Model → widget: on sceneChanged
and selectedRunChanged the form is rebuilt only when its shape changes (another optimizer,
another schedule, batch size appearing); otherwise values are set under QSignalBlocker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from PyQt6.QtCore import QSignalBlocker, Qt
from PyQt6.QtGui import QAction, QColor, QIcon, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine import OPTIMIZERS, SCHEDULES, run_label
from studio.gui.panels.hyper_widgets import INT_LIMIT, HyperEditor, NumberSpinBox, compact_combo
from studio.gui.session import Session
from studio.scene import MAX_GRID, MAX_RUNS, MAX_STEPS, PALETTE, RunSpec, Scene
from studio.surface import PRESETS

START_LIMIT = 1e6
STATUS_STYLE = "color: #d62728;"
COL_ENABLED, COL_COLOR, COL_NAME, COL_OPTIMIZER = range(4)

# Where each registry key is laid out. This only groups the form: every key the registry
# lists for an optimizer gets a control, and a key not named here lands in "Optimizer".
GROUP_OF_KEY: Mapping[str, str] = {
    "schedule": "Schedule",
    "grad_noise": "Noise",
    "noise_gamma": "Noise",
    "batch_size": "Batch",
    "delay": "Stale gradients",
    "max_delay": "Stale gradients",
    "tol": "Stopping",
    "patience": "Stopping",
}
GROUP_ORDER = ("Optimizer", "Schedule", "Noise", "Batch", "Stale gradients", "Stopping")
SCHEDULE_KEY = "schedule"
BATCH_KEY = "batch_size"

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


def next_color(runs: tuple[RunSpec, ...]) -> str:
    """The first palette colour no run uses yet (cycling once all are taken)."""
    used = {run.color.lower() for run in runs}
    for color in PALETTE:
        if color not in used:
            return color
    return PALETTE[len(runs) % len(PALETTE)]


class OptimizerPanel(QWidget):
    """Runs list plus the selected run's hyperparameters; see the module docstring."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        # Tests replace this to avoid a modal dialog; the app uses QColorDialog.
        self.color_picker: ColorPicker = pick_color_dialog
        self.editors: dict[str, HyperEditor] = {}
        self.groups: dict[str, QGroupBox] = {}
        self._form_signature: tuple[Any, ...] | None = None

        # ---- runs table and its buttons
        self.runs_table = QTableWidget(0, 4, self)
        self.runs_table.setHorizontalHeaderLabels(["On", "Colour", "Run", "Optimizer"])
        self.runs_table.verticalHeader().setVisible(False)
        self.runs_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs_table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                        | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.runs_table.horizontalHeader()
        header.setSectionResizeMode(COL_ENABLED, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_COLOR, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_OPTIMIZER, QHeaderView.ResizeMode.ResizeToContents)
        self.runs_table.setMinimumHeight(120)

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
        self.remove_button = QPushButton("Remove", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.duplicate_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        # ---- the selected run's form
        self.optimizer_combo = compact_combo(self)
        for name, info in OPTIMIZERS.items():
            self.optimizer_combo.addItem(info.title, name)
        self.doc_label = QLabel(self)
        self.doc_label.setWordWrap(True)
        self.doc_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._hyper_box = QWidget(self)
        self._hyper_layout = QVBoxLayout(self._hyper_box)
        self._hyper_layout.setContentsMargins(0, 0, 0, 0)

        self.start_x = NumberSpinBox(-START_LIMIT, START_LIMIT, parent=self)
        self.start_y = NumberSpinBox(-START_LIMIT, START_LIMIT, parent=self)
        self.starts_note = QLabel(self)
        self.grid_check = QCheckBox("Grid of starts", self)
        self.grid_check.setToolTip("Start one ball at every point of an nx×ny grid over the "
                                   "domain instead of at the start point")
        self.grid_nx = QSpinBox(self)
        self.grid_ny = QSpinBox(self)
        for spin in (self.grid_nx, self.grid_ny):
            spin.setRange(1, MAX_GRID)
            spin.setValue(5)
            spin.setKeyboardTracking(False)
        start_row = QHBoxLayout()
        start_row.addWidget(QLabel("x", self))
        start_row.addWidget(self.start_x)
        start_row.addWidget(QLabel("y", self))
        start_row.addWidget(self.start_y)
        grid_row = QHBoxLayout()
        grid_row.addWidget(self.grid_check)
        grid_row.addWidget(self.grid_nx)
        grid_row.addWidget(QLabel("×", self))
        grid_row.addWidget(self.grid_ny)
        self.start_group = QGroupBox("Start", self)
        start_form = QVBoxLayout(self.start_group)
        start_form.addLayout(start_row)
        start_form.addWidget(self.starts_note)
        start_form.addLayout(grid_row)

        self.steps_spin = QSpinBox(self)
        self.steps_spin.setRange(1, MAX_STEPS)
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, INT_LIMIT)
        for spin in (self.steps_spin, self.seed_spin):
            spin.setKeyboardTracking(False)
            spin.setAccelerated(True)
        sim_group = QGroupBox("Simulation", self)
        sim_form = QFormLayout(sim_group)
        sim_form.addRow("Steps", self.steps_spin)
        sim_form.addRow("Seed", self.seed_spin)

        self.status_label = QLabel(self)
        self.status_label.setStyleSheet(STATUS_STYLE)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.hide()

        self.run_form = QWidget(self)
        run_layout = QVBoxLayout(self.run_form)
        run_layout.setContentsMargins(0, 0, 0, 0)
        top = QFormLayout()
        top.addRow("Optimizer", self.optimizer_combo)
        run_layout.addLayout(top)
        run_layout.addWidget(self.doc_label)
        run_layout.addWidget(self._hyper_box)
        run_layout.addWidget(self.start_group)

        content = QWidget(self)
        content_layout = QVBoxLayout(content)
        content_layout.addWidget(self.run_form)
        content_layout.addWidget(sim_group)
        content_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)

        runs_part = QWidget(self)
        runs_layout = QVBoxLayout(runs_part)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(self.runs_table, 1)
        runs_layout.addLayout(buttons)
        runs_layout.addWidget(self.status_label)
        # The user shares the height between the runs and the selected run's settings (on a
        # 720-pixel screen neither fits whole); the settings get the larger part at first.
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(runs_part)
        self.splitter.addWidget(scroll)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

        # ---- widget → model
        self.runs_table.itemChanged.connect(self._on_item_changed)
        self.runs_table.cellClicked.connect(self._on_cell_clicked)
        self.runs_table.itemSelectionChanged.connect(self._on_table_selection)
        self.duplicate_button.clicked.connect(self.duplicate_run)
        self.remove_button.clicked.connect(self.remove_run)
        self.optimizer_combo.activated.connect(self._on_optimizer_activated)
        self.start_x.valueChanged.connect(self._on_start)
        self.start_y.valueChanged.connect(self._on_start)
        self.grid_check.toggled.connect(self._on_grid)
        self.grid_nx.valueChanged.connect(self._on_grid)
        self.grid_ny.valueChanged.connect(self._on_grid)
        self.steps_spin.valueChanged.connect(self._on_steps)
        self.seed_spin.valueChanged.connect(self._on_seed)

        # ---- model → widget
        session.sceneChanged.connect(self._on_scene_changed)
        session.selectedRunChanged.connect(lambda _index: self._refresh_form())
        session.errorRaised.connect(self._on_error)
        self._on_scene_changed(session.scene)

    # ------------------------------------------------------------------ helpers

    @property
    def run_index(self) -> int:
        return self.session.selected_run

    def _run(self) -> RunSpec | None:
        index = self.session.selected_run
        runs = self.session.scene.runs
        return runs[index] if 0 <= index < len(runs) else None

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def _on_error(self, message: str) -> None:
        self.show_status(message)
        # A refused edit leaves the scene as it was: show the model's values again.
        self._refresh_values()

    # ------------------------------------------------------------------ run list edits

    def new_run(self, optimizer: str) -> RunSpec:
        """A run of `optimizer` that fits the current surface: the preset's suggested
        hyperparameters and its first classic start (else the selected run's start, else
        the centre of the domain), in the next free palette colour."""
        scene = self.session.scene
        preset = PRESETS.get(scene.surface.preset or "")
        hyper: dict[str, Any] = {}
        start: tuple[float, float] | None = None
        if preset is not None:
            hyper.update(preset.suggested.get(optimizer, {}))
            if preset.starts:
                start = (float(preset.starts[0][0]), float(preset.starts[0][1]))
        current = self._run()
        if start is None and current is not None and current.starts:
            start = current.starts[0]
        if start is None:
            xmin, xmax, ymin, ymax = self.session.surface.domain
            start = ((xmin + xmax) / 2.0, (ymin + ymax) / 2.0)
        return RunSpec(optimizer=optimizer, hyper=hyper, starts=(start,),
                       color=next_color(scene.runs))

    def _edit_runs(self, runs: tuple[RunSpec, ...], text: str, select: int) -> bool:
        if len(runs) > MAX_RUNS:
            self.show_status(f"a scene holds at most {MAX_RUNS} runs")
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
        copy = dataclasses.replace(run, color=next_color(self.session.scene.runs),
                                   label=f"{run.label} copy" if run.label else "")
        runs = self.session.scene.runs + (copy,)
        return self._edit_runs(runs, f"Duplicate {run_label(run)}", len(runs) - 1)

    def remove_run(self) -> bool:
        index = self.session.selected_run
        runs = self.session.scene.runs
        if not 0 <= index < len(runs):
            return False
        rest = runs[:index] + runs[index + 1:]
        return self._edit_runs(rest, f"Remove {run_label(runs[index])}",
                               min(index, len(rest) - 1))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        row, col = item.row(), item.column()
        runs = self.session.scene.runs
        if not 0 <= row < len(runs):
            return
        run = runs[row]
        if col == COL_ENABLED:
            enabled = item.checkState() == Qt.CheckState.Checked
            if enabled != run.enabled:
                self.session.update_run(row, "Enable run" if enabled else "Disable run",
                                        enabled=enabled)
        elif col == COL_NAME:
            label = item.text().strip()
            if label != run_label(run):
                self.session.update_run(row, "Rename run", label=label)
            elif label != item.text():
                self._refresh_table()

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
        rows = self.runs_table.selectionModel().selectedRows()
        if rows:
            self.session.select_run(rows[0].row())

    # ------------------------------------------------------------------ hyper edits

    def _on_optimizer_activated(self, index: int) -> None:
        name = self.optimizer_combo.itemData(index)
        run = self._run()
        if run is None or name == run.optimizer:
            return
        info = OPTIMIZERS[name]
        # Keep the keys the new optimizer understands (lr, schedule, noise...), drop the
        # others (momentum on Adam would be refused), then the preset's suggestions.
        hyper = {k: v for k, v in run.hyper.items() if k in info.allowed}
        preset = PRESETS.get(self.session.scene.surface.preset or "")
        if preset is not None:
            hyper.update(preset.suggested.get(name, {}))
        self.session.update_run(self.run_index, f"Optimizer {info.title}", optimizer=name,
                                hyper=hyper)

    def set_hyper(self, key: str, value: Any) -> bool:
        run = self._run()
        if run is None:
            return False
        if key in run.hyper and run.hyper[key] == value and type(run.hyper[key]) is type(value):
            return True
        hyper = dict(run.hyper)
        hyper[key] = value
        index = self.run_index
        return self.session.update_run(index, f"Change {key}", merge_key=f"run{index}.{key}",
                                       hyper=hyper)

    def _on_start(self) -> None:
        run = self._run()
        if run is None:
            return
        point = (self.start_x.value(), self.start_y.value())
        starts = (point,) + tuple(run.starts[1:])
        index = self.run_index
        self.session.update_run(index, "Move start", merge_key=f"run{index}.start",
                                starts=starts)

    def _on_grid(self) -> None:
        run = self._run()
        if run is None:
            return
        on = self.grid_check.isChecked()
        self.grid_nx.setEnabled(on)
        self.grid_ny.setEnabled(on)
        grid = (self.grid_nx.value(), self.grid_ny.value()) if on else None
        if grid == run.grid:
            return
        index = self.run_index
        self.session.update_run(index, "Start grid", merge_key=f"run{index}.grid", grid=grid)

    def _on_steps(self, value: int) -> None:
        self.session.edit_scene(dataclasses.replace(self.session.scene, steps=int(value)),
                                "Change steps", merge_key="scene.steps")

    def _on_seed(self, value: int) -> None:
        self.session.edit_scene(dataclasses.replace(self.session.scene, seed=int(value)),
                                "Change seed", merge_key="scene.seed")

    # ------------------------------------------------------------------ model → widget

    def _on_scene_changed(self, scene: Scene) -> None:
        self.show_status("")
        self._refresh_table()
        self._refresh_form()
        with QSignalBlocker(self.steps_spin):
            self.steps_spin.setValue(scene.steps)
        with QSignalBlocker(self.seed_spin):
            self.seed_spin.setValue(min(scene.seed, INT_LIMIT))

    def _refresh_table(self) -> None:
        runs = self.session.scene.runs
        table = self.runs_table
        with QSignalBlocker(table):
            table.setRowCount(len(runs))
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
                if name.text() != run_label(run):
                    name.setText(run_label(run))
                info = OPTIMIZERS.get(run.optimizer)
                optimizer = self._item(row, COL_OPTIMIZER, editable=False)
                optimizer.setText(info.title if info is not None else run.optimizer)
            self._select_row(self.session.selected_run)
        has_run = 0 <= self.session.selected_run < len(runs)
        self.duplicate_button.setEnabled(has_run and len(runs) < MAX_RUNS)
        self.remove_button.setEnabled(has_run)
        self.add_button.setEnabled(len(runs) < MAX_RUNS)

    def _item(self, row: int, col: int, *, editable: bool,
              checkable: bool = False) -> QTableWidgetItem:
        item = self.runs_table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
            if editable:
                flags |= Qt.ItemFlag.ItemIsEditable
            if checkable:
                flags |= Qt.ItemFlag.ItemIsUserCheckable
                item.setCheckState(Qt.CheckState.Checked)
            item.setFlags(flags)
            self.runs_table.setItem(row, col, item)
        return item

    def _select_row(self, row: int) -> None:
        with QSignalBlocker(self.runs_table):
            if row < 0:
                self.runs_table.clearSelection()
            elif self.runs_table.currentRow() != row or not self.runs_table.selectedItems():
                self.runs_table.selectRow(row)

    def _refresh_form(self) -> None:
        """Rebuild the hyperparameter form if its shape changed, then set every value."""
        self._select_row(self.session.selected_run)
        run = self._run()
        self.run_form.setEnabled(run is not None)
        if run is None:
            return
        signature = (run.optimizer, self._schedule_of(run), self._batch_rows())
        if signature != self._form_signature:
            self._build_form(run)
            self._form_signature = signature
        self._refresh_values()

    def _schedule_of(self, run: RunSpec) -> str:
        info = OPTIMIZERS.get(run.optimizer)
        default = info.hyper[SCHEDULE_KEY].default if info is not None else "constant"
        return str(run.hyper.get(SCHEDULE_KEY, default))

    def _batch_rows(self) -> int:
        return int(getattr(self.session.surface, "n_rows", 0) or 0)

    def _build_form(self, run: RunSpec) -> None:
        for group in self.groups.values():
            # Hidden at once: deleteLater only runs when control returns to the event loop.
            self._hyper_layout.removeWidget(group)
            group.hide()
            group.deleteLater()
        self.groups, self.editors = {}, {}
        info = OPTIMIZERS.get(run.optimizer)
        if info is None:
            return
        layouts: dict[str, QFormLayout] = {}

        def add(group_name: str, meta: Any, **kwargs: Any) -> None:
            if group_name not in self.groups:
                box = QGroupBox(group_name, self._hyper_box)
                self.groups[group_name] = box
                layouts[group_name] = QFormLayout(box)
            editor = HyperEditor(meta, self.groups[group_name], **kwargs)
            editor.valueChanged.connect(self.set_hyper)
            self.editors[meta.key] = editor
            layouts[group_name].addRow(meta.key, editor)

        n_rows = self._batch_rows()
        for key, meta in info.hyper.items():
            group = GROUP_OF_KEY.get(key, "Optimizer")
            if key == BATCH_KEY:
                if n_rows <= 0:
                    continue  # batches only exist on a surface with data rows
                meta = dataclasses.replace(meta, hi=n_rows, maximum=n_rows)
            if key == SCHEDULE_KEY:
                add(group, meta, titles={name: s.title for name, s in SCHEDULES.items()})
                schedule = SCHEDULES.get(self._schedule_of(run))
                for sched_meta in schedule.keys if schedule is not None else ():
                    add(group, sched_meta)
            else:
                add(group, meta)
        if BATCH_KEY in self.editors:
            spin = self.editors[BATCH_KEY].spin
            if spin is not None:
                spin.setSpecialValueText("all rows")
        for name in GROUP_ORDER + tuple(g for g in self.groups if g not in GROUP_ORDER):
            if name in self.groups:
                self._hyper_layout.addWidget(self.groups[name])
        self.doc_label.setText(info.doc)

    def _refresh_values(self) -> None:
        run = self._run()
        if run is None:
            return
        with QSignalBlocker(self.optimizer_combo):
            self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(run.optimizer))
        for key, editor in self.editors.items():
            editor.set_value(run.hyper.get(key, editor.default))
        x, y = run.starts[0] if run.starts else (0.0, 0.0)
        for spin, value in ((self.start_x, x), (self.start_y, y)):
            if spin.value() != value:
                with QSignalBlocker(spin):
                    spin.setValue(value)
        many = len(run.starts) > 1
        self.starts_note.setVisible(many)
        self.starts_note.setText(f"{len(run.starts)} start points; x, y edit the first"
                                 if many else "")
        with QSignalBlocker(self.grid_check):
            self.grid_check.setChecked(run.grid is not None)
        for spin, value in zip((self.grid_nx, self.grid_ny), run.grid or (), strict=False):
            with QSignalBlocker(spin):
                spin.setValue(value)
        self.grid_nx.setEnabled(run.grid is not None)
        self.grid_ny.setEnabled(run.grid is not None)
        self.start_x.setEnabled(run.grid is None)
        self.start_y.setEnabled(run.grid is None)
