"""The Surface panel's "Network" kind: train a network instead of descending a surface.

`NetworkForm` adds a Kind row (Surface or Network) to the surface editor's form and, for a
network scene, its own rows: the task, the hidden layer sizes ("16x8"), the activation, the
seed of the shared initial weights and the landscape plane (PCA of the paths, or random
filter-normalised directions). The surface rows are hidden meanwhile. Every change is one
undoable `Session.edit_scene`; sizes that make no valid network, or a network too large to
keep for the scene's runs and steps, are shown in one red line and leave the last valid
network in the scene. While the session trains and maps the plane (on its worker thread, see
docs/architecture.md#threading) the form says so.
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtCore import QSignalBlocker
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLayoutItem,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.editing import pick_preset
from studio.errors import StudioError
from studio.gui.session import Session
from studio.network.model import ACTIVATIONS, NetworkError, NetworkSpec
from studio.scene import Scene, SurfaceSpec

KINDS = ("Surface", "Network")
TASKS = {"digits01": "Digits 0/1 (one sigmoid output)", "digits": "Digits 0-9 (softmax)"}
PLANE_TITLES = {"pca": "PCA of the paths", "random": "Random (filter-normalised)"}
ERROR_STYLE = "color: #e15759;"
SURFACE_KIND_PRESET = "rosenbrock"  # where Kind → Surface lands


class NetworkForm(QWidget):
    """The network rows; `attach(form)` puts the Kind row on top of the surface editor's form."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._form: QFormLayout | None = None
        self._rows_shown = True
        self._kept_hidden: list[QWidget] = []
        self.kind_combo = QComboBox(parent)
        self.kind_combo.addItems(KINDS)
        self.kind_combo.setToolTip(
            "A loss surface of two parameters, or a network trained "
            "on digits and drawn on a plane through its weights"
        )
        self.task_combo = QComboBox(self)
        for name, title in TASKS.items():
            self.task_combo.addItem(title, name)
        self.hidden_edit = QLineEdit(self)
        self.hidden_edit.setPlaceholderText("e.g. 16x8")
        self.hidden_edit.setToolTip(
            "Hidden layer widths, input side first, joined by x (1 to 4 layers of 1 to 256 units)"
        )
        self.activation_combo = QComboBox(self)
        self.activation_combo.addItems(ACTIVATIONS)
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Seed of the initial weights every run starts from")
        self.plane_combo = QComboBox(self)
        for name, title in PLANE_TITLES.items():
            self.plane_combo.addItem(title, name)
        self.plane_combo.setToolTip(
            "The plane the loss is drawn on: through the initial "
            "weights, along the paths' two principal directions or "
            "two random filter-normalised ones"
        )
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)

        inner = QFormLayout()
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addRow("Task", self.task_combo)
        inner.addRow("Hidden", self.hidden_edit)
        inner.addRow("Activation", self.activation_combo)
        inner.addRow("Init seed", self.seed_spin)
        inner.addRow("Plane", self.plane_combo)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(inner)
        box.addWidget(self.error_label)
        box.addWidget(self.status_label)

        self.kind_combo.activated.connect(lambda i: self.set_kind(KINDS[i]))
        self.task_combo.activated.connect(
            lambda _i: self._edit_network("Network task", task=self.task_combo.currentData())
        )
        self.hidden_edit.editingFinished.connect(self.apply_hidden)
        self.activation_combo.activated.connect(
            lambda _i: self._edit_network(
                "Network activation", activation=self.activation_combo.currentText()
            )
        )
        self.seed_spin.editingFinished.connect(
            lambda: self._edit_network("Network init seed", init_seed=self.seed_spin.value())
        )
        self.plane_combo.activated.connect(
            lambda _i: self._edit_plane(self.plane_combo.currentData())
        )
        session.sceneChanged.connect(self._refresh)
        session.surfaceChanged.connect(self._show_status)
        session.busyChanged.connect(self._show_status)

    def attach(self, form: QFormLayout) -> None:
        """Put the Kind row first in the surface editor's `form` and these rows last; the
        rows between are the surface's, shown only for a surface scene."""
        self._form = form
        form.insertRow(0, "Kind", self.kind_combo)
        form.addRow(self)
        self._refresh(self.session.scene)

    # ------------------------------------------------------------------ widget → model

    @property
    def network(self) -> NetworkSpec | None:
        return self.session.scene.surface.network

    def set_kind(self, kind: str) -> bool:
        """Switch the scene to a network ("Network", the default network) or back to a
        surface ("Surface": the Rosenbrock preset, runs moved to its classic start)."""
        self.session.seal_edits()
        scene = self.session.scene
        if (kind == "Network") == (self.network is not None):
            return True
        if kind == "Network":
            new = dataclasses.replace(
                scene, title="", surface=SurfaceSpec(preset=None, network=NetworkSpec())
            )
            ok = self._commit(new, "Network surface")
        else:
            ok = self.session.edit_scene(
                dataclasses.replace(pick_preset(scene, SURFACE_KIND_PRESET), title=""),
                "Surface kind",
            )
        if not ok:
            self._refresh(self.session.scene)
        return ok

    def apply_hidden(self) -> bool:
        """Read the hidden sizes ("16x8"); a bad entry is shown and the network kept."""
        text = self.hidden_edit.text().strip().lower().replace(" ", "")
        if self.network is None:
            return False
        try:
            parts = tuple(int(p) for p in text.split("x")) if text else ()
        except ValueError:
            self._show_error(f"hidden sizes are written like 16x8, not '{text}'")
            return False
        return self._edit_network("Network hidden sizes", hidden=parts)

    def _edit_network(self, text: str, **changes: object) -> bool:
        net = self.network
        if net is None:
            return False
        try:
            new_net = dataclasses.replace(net, **changes)  # type: ignore[arg-type]
        except NetworkError as exc:
            self._show_error(str(exc))
            return False
        if new_net == net:
            self._show_error(None)
            return True
        scene = self.session.scene
        self.session.seal_edits()
        return self._commit(
            dataclasses.replace(scene, surface=dataclasses.replace(scene.surface, network=new_net)),
            text,
        )

    def _edit_plane(self, plane: str) -> bool:
        scene = self.session.scene
        if scene.surface.plane == plane:
            return True
        self.session.seal_edits()
        return self._commit(
            dataclasses.replace(scene, surface=dataclasses.replace(scene.surface, plane=plane)),
            "Landscape plane",
        )

    def _commit(self, scene: Scene, text: str) -> bool:
        """Edit the scene if its network fits in memory for its runs and steps."""
        from studio.engine import check_size

        net = scene.surface.network
        try:
            if net is not None:
                check_size(sum(r.enabled for r in scene.runs), scene.steps, net.n_params)
        except StudioError as exc:
            self._show_error(str(exc))
            self._refresh(self.session.scene)
            return False
        self._show_error(None)
        return self.session.edit_scene(scene, text)

    # ------------------------------------------------------------------ model → widget

    def _show_surface_rows(self, shown: bool) -> None:
        """Show or hide the surface editor's rows (1 .. n-2: the first is Kind, the last this
        form), only when the kind changes. Showing a row shows every widget in it, so the
        ones hidden on purpose (an error line, the compiling cue) are hidden again."""
        form = self._form
        if form is None or shown == self._rows_shown:
            return
        self._rows_shown = shown
        rows = range(1, form.rowCount() - 1)
        if not shown:
            self._kept_hidden = [w for w in _row_widgets(form, rows) if w.isHidden()]
        for row in rows:
            form.setRowVisible(row, shown)
        if shown:
            for widget in self._kept_hidden:
                widget.hide()

    def _show_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    def _show_status(self, *_unused: object) -> None:
        if self.network is None:
            self.status_label.clear()
            return
        surface = self.session.surface
        if self.session.busy:
            self.status_label.setText("Training and mapping the plane…")
        else:
            d = self.network.n_params
            axes = getattr(surface, "axis_titles", ("", ""))
            self.status_label.setText(f"{d:,} weights · axes {axes[0]}, {axes[1]}")

    def _refresh(self, scene: Scene) -> None:
        net = scene.surface.network
        with QSignalBlocker(self.kind_combo):
            self.kind_combo.setCurrentIndex(1 if net is not None else 0)
        self._show_surface_rows(net is None)
        self.setVisible(net is not None)
        if net is None:
            return
        with QSignalBlocker(self.task_combo):
            self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(net.task)))
        text = "x".join(map(str, net.hidden))
        if self.hidden_edit.text() != text and not self.hidden_edit.hasFocus():
            with QSignalBlocker(self.hidden_edit):
                self.hidden_edit.setText(text)
        with QSignalBlocker(self.activation_combo):
            self.activation_combo.setCurrentText(net.activation)
        with QSignalBlocker(self.seed_spin):
            self.seed_spin.setValue(min(net.init_seed, self.seed_spin.maximum()))
        with QSignalBlocker(self.plane_combo):
            self.plane_combo.setCurrentIndex(max(0, self.plane_combo.findData(scene.surface.plane)))
        self._show_status()


def _row_widgets(form: QFormLayout, rows: range) -> list[QWidget]:
    """Every widget in the given rows of `form`, inside nested layouts too."""
    out: list[QWidget] = []

    def visit(item: QLayoutItem | None) -> None:
        if item is None:
            return
        widget, layout = item.widget(), item.layout()
        if widget is not None:
            out.append(widget)
        elif layout is not None:
            for k in range(layout.count()):
                visit(layout.itemAt(k))

    for row in rows:
        for role in (
            QFormLayout.ItemRole.LabelRole,
            QFormLayout.ItemRole.FieldRole,
            QFormLayout.ItemRole.SpanningRole,
        ):
            visit(form.itemAt(row, role))
    return out
