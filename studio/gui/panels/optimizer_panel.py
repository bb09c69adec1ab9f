"""The Optimizers dock: the runs table above, the selected run's settings below.

It only lays out its three parts, each a module of its own and each talking to the
session alone: `RunsTable` (runs_table.py: the runs, Add/Duplicate/Remove), `RunForm`
(run_form.py: optimizer, hyperparameters, start) and `SimulationBox` (simulation_box.py:
steps and seed). A red status line under the table shows the session's errors and the
table's refusals.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGroupBox, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from studio.editing import next_color
from studio.gui.panels.hyper_widgets import HyperEditor
from studio.gui.panels.run_form import RunForm
from studio.gui.panels.runs_table import (
    COL_COLOR,
    COL_ENABLED,
    COL_NAME,
    COL_OPTIMIZER,
    ColorPicker,
    RunsTable,
)
from studio.gui.panels.simulation_box import SimulationBox
from studio.gui.session import Session

__all__ = ["COL_COLOR", "COL_ENABLED", "COL_NAME", "COL_OPTIMIZER", "OptimizerPanel", "next_color"]

STATUS_STYLE = "color: #d62728;"


class OptimizerPanel(QWidget):
    """Runs table, run form and simulation box; see the module docstring."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runs = RunsTable(session, self)
        self.run_form = RunForm(session, self)
        self.simulation = SimulationBox(session, self)

        self.status_label = QLabel(self)
        self.status_label.setStyleSheet(STATUS_STYLE)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.hide()

        content = QWidget(self)
        content_layout = QVBoxLayout(content)
        content_layout.addWidget(self.run_form)
        content_layout.addWidget(self.simulation)
        content_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)

        runs_part = QWidget(self)
        runs_layout = QVBoxLayout(runs_part)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(self.runs, 1)
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

        self._expose_parts()
        self.runs.refused.connect(self.show_status)
        session.sceneChanged.connect(lambda _scene: self.show_status(""))
        session.errorRaised.connect(self._on_error)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def _on_error(self, message: str) -> None:
        self.show_status(message)
        # A refused edit leaves the scene as it was: show the model's values again.
        self.run_form.refresh_values()

    # The parts' controls and actions, named as before the split (the window, tests).
    @property
    def color_picker(self) -> ColorPicker:
        return self.runs.color_picker

    @color_picker.setter
    def color_picker(self, picker: ColorPicker) -> None:
        self.runs.color_picker = picker

    @property
    def editors(self) -> dict[str, HyperEditor]:
        return self.run_form.editors

    @property
    def groups(self) -> dict[str, QGroupBox]:
        return self.run_form.groups

    def _expose_parts(self) -> None:
        runs, form, sim = self.runs, self.run_form, self.simulation
        self.runs_table = runs.table
        self.add_button, self.add_menu, self.add_actions = (
            runs.add_button,
            runs.add_menu,
            runs.add_actions,
        )
        self.duplicate_button, self.remove_button = runs.duplicate_button, runs.remove_button
        self.add_run, self.duplicate_run, self.remove_run = (
            runs.add_run,
            runs.duplicate_run,
            runs.remove_run,
        )
        self.new_run, self.choose_color = runs.new_run, runs.choose_color
        self.optimizer_combo, self.set_hyper = form.optimizer_combo, form.set_hyper
        self.start_x, self.start_y = form.start_x, form.start_y
        self.grid_check, self.grid_nx, self.grid_ny = form.grid_check, form.grid_nx, form.grid_ny
        self.steps_spin, self.seed_spin = sim.steps_spin, sim.seed_spin
