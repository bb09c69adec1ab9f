"""The scene's simulation settings: the number of steps and the random seed.

Each spin box edits the scene through `Session.edit_scene` with a merge key (scrolling is
one undo step; Enter or focus leaving seals it) and follows the scene under QSignalBlocker.
A refused number of steps (too large a trajectory to keep) snaps back, its reason under it.
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtCore import QSignalBlocker
from PyQt6.QtWidgets import QFormLayout, QGroupBox, QSpinBox, QWidget

from studio.gui.panels.hyper_widgets import INT_LIMIT, error_label
from studio.gui.session import Session
from studio.scene import MAX_STEPS, Scene


class SimulationBox(QGroupBox):
    """ "Simulation": steps and seed of the session's scene."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__("Simulation", parent)
        self.session = session
        self.steps_spin = QSpinBox(self)
        self.steps_spin.setRange(1, MAX_STEPS)
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, INT_LIMIT)
        self.steps_spin.setToolTip("Number of updates every ball makes")
        self.seed_spin.setToolTip(
            "Random seed of every noisy draw (gradient noise, mini-batch "
            "order, random delays): the same seed gives the same paths"
        )
        for spin in (self.steps_spin, self.seed_spin):
            spin.setKeyboardTracking(False)
            spin.setAccelerated(True)
            spin.editingFinished.connect(session.seal_edits)
        self.steps_error = error_label(self)
        form = QFormLayout(self)
        form.addRow("Steps", self.steps_spin)
        form.addRow(self.steps_error)
        form.addRow("Seed", self.seed_spin)

        self.steps_spin.valueChanged.connect(self._on_steps)
        self.seed_spin.valueChanged.connect(self._on_seed)
        session.sceneChanged.connect(self.refresh)
        self.refresh(session.scene)

    def _on_steps(self, value: int) -> None:
        refused: list[str] = []
        if self.session.edit_scene(
            dataclasses.replace(self.session.scene, steps=int(value)),
            "Change steps",
            merge_key="scene.steps",
            on_refused=refused.append,
        ):
            self.show_error("")
        else:  # too large to keep: snap back, the reason under the field
            self.refresh(self.session.scene)
            self.show_error(f"{refused[0]}: not applied" if refused else "")

    def show_error(self, text: str) -> None:
        """Why the last Steps edit was refused, under the field ('' hides it)."""
        self.steps_error.setText(text)
        self.steps_error.setVisible(bool(text))

    def _on_seed(self, value: int) -> None:
        self.session.edit_scene(
            dataclasses.replace(self.session.scene, seed=int(value)),
            "Change seed",
            merge_key="scene.seed",
        )

    def refresh(self, scene: Scene) -> None:
        if scene.steps != self.steps_spin.value():
            self.show_error("")  # the steps changed elsewhere (undo, open): the reason is old
        with QSignalBlocker(self.steps_spin):
            self.steps_spin.setValue(scene.steps)
        with QSignalBlocker(self.seed_spin):
            self.seed_spin.setValue(min(scene.seed, INT_LIMIT))
