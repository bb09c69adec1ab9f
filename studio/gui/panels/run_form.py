"""The selected run's settings: optimizer, hyperparameters (from the registry), start.

The form is built from the engine registry's metadata (never from a list of keys written
here): the optimizer's own keys, the schedule with its keys, noise, batch size (only on a
data-fit surface), staleness and stopping; then the run's start point (or an nx×ny grid of
starts).

Widget → model: every control calls `Session.update_run` with a merge key, so dragging a
slider or scrolling a spin box is one undo step, and a commit (Enter, focus out, slider
released) seals it. A hyperparameter the engine refuses (`validate_hyper`, the rule scene
files and the command line obey) is not applied: the reason shows under its field, which
keeps what was typed. So does a start where f or its gradient is undefined (a hole of
log(x) + y², docs/algorithms.md#undefined-regions): the reason shows under the start, the run
keeps its old one, and a start grid says how many of its points it leaves out. Model → widget:
on sceneChanged and selectedRunChanged the form is rebuilt only when its shape changes
(another optimizer, another schedule, batch size appearing); otherwise values are set
under QSignalBlocker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PyQt6.QtCore import QSignalBlocker, Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.editing import change_optimizer
from studio.engine import OPTIMIZERS, SCHEDULES, grid_starts, validate_hyper
from studio.engine.starts import grid_note, start_problems
from studio.errors import StudioError
from studio.gui.panels.hyper_widgets import (
    FLOAT_LIMIT,
    HyperEditor,
    IntSpinBox,
    NumberSpinBox,
    compact_combo,
    error_label,
    hyper_label,
    hyper_tooltip,
)
from studio.gui.session import Session
from studio.scene import MAX_GRID, RunSpec

START_LIMIT = FLOAT_LIMIT  # a scene file may start a ball anywhere finite (it diverges at once)

# Where each registry key is laid out. This only groups the form: every key the registry
# lists for an optimizer gets a control, and a key not named here lands in "Optimizer".
GROUP_OF_KEY: Mapping[str, str] = {
    "schedule": "Schedule",
    "grad_noise": "Noise",
    "noise_gamma": "Noise",
    "batch_size": "Batch",
    "batch_order": "Batch",
    "delay": "Stale gradients",
    "max_delay": "Stale gradients",
    "tol": "Stopping",
    "patience": "Stopping",
    "stop_on": "Stopping",
}
GROUP_ORDER = ("Optimizer", "Schedule", "Noise", "Batch", "Stale gradients", "Stopping")
SCHEDULE_KEY = "schedule"
BATCH_KEY = "batch_size"
# Keys that mean something only with data rows (a data-fit surface; stop_on also a network).
DATA_KEYS = ("batch_size", "batch_order")
STOP_ON_KEY = "stop_on"
CHOICE_TITLES: Mapping[str, Mapping[str, str]] = {
    "batch_order": {"shuffle": "reshuffled each epoch", "in_order": "in order"},
    "stop_on": {"grad": "gradient / training loss", "val_loss": "validation loss"},
}


class RunForm(QWidget):
    """The selected run's optimizer, hyperparameters and start; see the module docstring."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.editors: dict[str, HyperEditor] = {}
        self.groups: dict[str, QGroupBox] = {}
        self._form_signature: tuple[Any, ...] | None = None

        self.optimizer_combo = compact_combo(self)
        for i, (name, info) in enumerate(OPTIMIZERS.items()):
            self.optimizer_combo.addItem(info.title, name)
            self.optimizer_combo.setItemData(i, f"{name}: {info.doc}", Qt.ItemDataRole.ToolTipRole)
        self.optimizer_combo.setToolTip(
            "The selected run's optimizer; its hyperparameters "
            "below come from the engine's registry"
        )
        self.doc_label = QLabel(self)
        self.doc_label.setWordWrap(True)
        self.doc_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._hyper_box = QWidget(self)
        self._hyper_layout = QVBoxLayout(self._hyper_box)
        self._hyper_layout.setContentsMargins(0, 0, 0, 0)

        self.start_x = NumberSpinBox(-START_LIMIT, START_LIMIT, parent=self)
        self.start_y = NumberSpinBox(-START_LIMIT, START_LIMIT, parent=self)
        self.starts_note = QLabel(self)
        self.starts_note.setWordWrap(True)
        self.start_error = error_label(self)  # why a typed start was refused
        self.grid_check = QCheckBox("Grid of starts", self)
        self.grid_check.setToolTip(
            "Start one ball at every point of an nx×ny grid over the "
            "domain instead of at the start point"
        )
        self.start_x.setToolTip("x of the selected run's start (or click the map to move it)")
        self.start_y.setToolTip("y of the selected run's start (or click the map to move it)")
        self.grid_nx = QSpinBox(self)
        self.grid_ny = QSpinBox(self)
        self.grid_nx.setToolTip("Starts across the grid (nx)")
        self.grid_ny.setToolTip("Starts down the grid (ny)")
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
        start_form.addWidget(self.start_error)
        start_form.addWidget(self.starts_note)
        start_form.addLayout(grid_row)
        self.grid_error = error_label(self)
        start_form.addWidget(self.grid_error)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QFormLayout()
        top.addRow("Optimizer", self.optimizer_combo)
        layout.addLayout(top)
        layout.addWidget(self.doc_label)
        layout.addWidget(self._hyper_box)
        layout.addWidget(self.start_group)

        # ---- widget → model
        self.optimizer_combo.activated.connect(self._on_optimizer_activated)
        self.start_x.valueChanged.connect(self._on_start)
        self.start_y.valueChanged.connect(self._on_start)
        self.grid_check.toggled.connect(self._on_grid)
        self.grid_nx.valueChanged.connect(self._on_grid)
        self.grid_ny.valueChanged.connect(self._on_grid)
        for spin in (self.start_x, self.start_y, self.grid_nx, self.grid_ny):
            spin.editingFinished.connect(session.seal_edits)

        # ---- model → widget
        session.sceneChanged.connect(lambda _scene: self.refresh())
        session.selectedRunChanged.connect(self._on_selected)
        self.refresh()

    # ------------------------------------------------------------------ helpers

    @property
    def run_index(self) -> int:
        return self.session.selected_run

    def _run(self) -> RunSpec | None:
        index = self.session.selected_run
        runs = self.session.scene.runs
        return runs[index] if 0 <= index < len(runs) else None

    # ------------------------------------------------------------------ widget → model

    def _on_optimizer_activated(self, index: int) -> None:
        name = self.optimizer_combo.itemData(index)
        run = self._run()
        if run is None or name == run.optimizer:
            return
        new = change_optimizer(run, name, self.session.scene.surface)
        self.session.update_run(
            self.run_index,
            f"Optimizer {OPTIMIZERS[name].title}",
            optimizer=new.optimizer,
            hyper=new.hyper,
        )

    def set_hyper(self, key: str, value: Any) -> bool:
        """Apply one hyperparameter edit, or show under its field why the engine refuses it."""
        run = self._run()
        if run is None:
            return False
        editor = self.editors.get(key)
        if key in run.hyper and run.hyper[key] == value and type(run.hyper[key]) is type(value):
            if editor is not None:
                editor.show_error("")
            return True
        hyper = dict(run.hyper)
        hyper[key] = value
        try:
            validate_hyper(run.optimizer, hyper)
        except StudioError as exc:
            if editor is not None:
                editor.show_error(f"{exc}: not applied")
            return False
        if editor is not None:
            editor.show_error("")
        index = self.run_index
        return self.session.update_run(
            index, f"Change {key}", merge_key=f"run{index}.{key}", hyper=hyper
        )

    def _on_start(self) -> None:
        run = self._run()
        if run is None:
            return
        point = (self.start_x.value(), self.start_y.value())
        problem = self.start_problem(point)
        self.show_start_error(
            f"start ({point[0]:g}, {point[1]:g}) is {problem}: not applied" if problem else ""
        )
        if problem:
            return
        starts = (point,) + tuple(run.starts[1:])
        index = self.run_index
        self.session.update_run(index, "Move start", merge_key=f"run{index}.start", starts=starts)

    def start_problem(self, point: tuple[float, float]) -> str:
        """Why a ball cannot start at `point` on the current surface ('' if it can)."""
        if self.session.scene.surface.network is not None:
            return ""  # a network's runs start from its initial weights, not from here
        return start_problems(self.session.surface, [point])[0] or ""

    def show_start_error(self, text: str) -> None:
        """A reason under the start ('' hides it): why the last start typed was refused."""
        self.start_error.setText(text)
        self.start_error.setVisible(bool(text))

    @property
    def start_error_text(self) -> str:
        return self.start_error.text() if self.start_error.isVisibleTo(self) else ""

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
        refused: list[str] = []
        if self.session.update_run(
            index, "Start grid", merge_key=f"run{index}.grid", on_refused=refused.append, grid=grid
        ):
            self.show_grid_error("")
        else:  # too many balls to keep: snap back, the reason under the grid
            self.refresh_values()
            self.show_grid_error(f"{refused[0]}: not applied" if refused else "")

    def show_grid_error(self, text: str) -> None:
        """Why the last grid edit was refused, under the grid ('' hides it)."""
        self.grid_error.setText(text)
        self.grid_error.setVisible(bool(text))

    # ------------------------------------------------------------------ model → widget

    def _on_selected(self, _index: int) -> None:
        for editor in self.editors.values():
            editor.show_error("")  # a refusal was about the run that was selected
        self.show_start_error("")
        self.show_grid_error("")
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the hyperparameter form if its shape changed, then set every value."""
        run = self._run()
        self.setEnabled(run is not None)
        if run is None:
            return
        signature = (run.optimizer, self._schedule_of(run), self._batch_rows())
        if signature != self._form_signature:
            self._build_form(run)
            self._form_signature = signature
        self.refresh_values()

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
                form = layouts[group_name] = QFormLayout(box)
                # A long label puts its field under it when the dock is narrow, rather than
                # making the dock scroll sideways (the field's right end hidden).
                form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            editor = HyperEditor(meta, self.groups[group_name], **kwargs)
            editor.valueChanged.connect(self.set_hyper)
            editor.committed.connect(lambda _key: self.session.seal_edits())
            self.editors[meta.key] = editor
            label = QLabel(hyper_label(meta), self.groups[group_name])
            label.setToolTip(hyper_tooltip(meta))
            label.setBuddy(editor.spin or editor.combo)
            layouts[group_name].addRow(label, editor)

        n_rows = self._batch_rows()
        for key, meta in info.hyper.items():
            group = GROUP_OF_KEY.get(key, "Optimizer")
            if key in DATA_KEYS and n_rows <= 0:
                continue  # batches only exist on a surface with data rows
            if key == STOP_ON_KEY and n_rows <= 0 and self.session.scene.surface.network is None:
                continue  # a validation loss needs data rows to hold out, or a network
            if key == SCHEDULE_KEY:
                add(group, meta, titles={name: s.title for name, s in SCHEDULES.items()})
                schedule = SCHEDULES.get(self._schedule_of(run))
                for sched_meta in schedule.keys if schedule is not None else ():
                    add(group, sched_meta)
            elif key in CHOICE_TITLES:
                add(group, meta, titles=CHOICE_TITLES[key])
            else:
                add(group, meta)
        if BATCH_KEY in self.editors:
            spin = self.editors[BATCH_KEY].spin
            if isinstance(spin, IntSpinBox):
                # 0 and any size of at least the rows' count mean the whole data set.
                spin.zero_text = "all rows"
                spin.setToolTip(
                    f"{BATCH_KEY} — rows per mini-batch; 0 or {n_rows} and more: all {n_rows}"
                )
                spin.setValue(spin.value())
        for name in GROUP_ORDER + tuple(g for g in self.groups if g not in GROUP_ORDER):
            if name in self.groups:
                self._hyper_layout.addWidget(self.groups[name])
        self.doc_label.setText(info.doc)

    def refresh_values(self) -> None:
        run = self._run()
        if run is None:
            return
        with QSignalBlocker(self.optimizer_combo):
            self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(run.optimizer))
        for key, editor in self.editors.items():
            editor.set_value(run.hyper.get(key, editor.default))
        x, y = run.starts[0] if run.starts else (0.0, 0.0)
        self.show_start_error("")  # the spin boxes show the run's start again
        for spin, value in ((self.start_x, x), (self.start_y, y)):
            if spin.value() != value:
                with QSignalBlocker(spin):
                    spin.setValue(value)
        many = len(run.starts) > 1
        note = f"{len(run.starts)} start points; x, y edit the first" if many else ""
        if run.grid is not None and self.session.scene.surface.network is None:
            surface = self.session.surface
            note = grid_note(surface, grid_starts(surface.domain, *run.grid))
        self.starts_note.setVisible(bool(note))
        self.starts_note.setText(note)
        with QSignalBlocker(self.grid_check):
            self.grid_check.setChecked(run.grid is not None)
        for spin, value in zip((self.grid_nx, self.grid_ny), run.grid or (), strict=False):
            with QSignalBlocker(spin):
                spin.setValue(value)
        self.grid_nx.setEnabled(run.grid is not None)
        self.grid_ny.setEnabled(run.grid is not None)
        self.start_x.setEnabled(run.grid is None)
        self.start_y.setEnabled(run.grid is None)
