"""The network lab in the window: the Network kind, off-thread training, undo, save/load,
the lower plot's validation choices."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.gui.panels.surface_editor import SurfaceEditor
from studio.gui.session import Session
from studio.gui.views.loss_plot import LossView
from studio.network.landscape import LandscapeSurface, LandscapeTrajectory
from studio.network.model import NetworkSpec
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec


def surface_scene() -> Scene:
    return Scene(
        surface=SurfaceSpec(preset="rosenbrock"),
        runs=(
            RunSpec("sgd", {"lr": 0.5}, ((-1.5, 2.0),), color=PALETTE[0]),
            RunSpec("adam", {"lr": 0.01}, ((-1.5, 2.0),), color=PALETTE[1]),
        ),
        steps=20,
    )


def network_scene() -> Scene:
    return Scene(
        surface=SurfaceSpec(preset=None, network=NetworkSpec(hidden=(6,))),
        runs=surface_scene().runs,
        steps=20,
    )


def test_the_network_kind_trains_and_undoes(qtbot) -> None:
    session = Session(surface_scene(), threaded=False)
    editor = SurfaceEditor(session)
    qtbot.addWidget(editor)
    form = editor.network_form
    assert not form.isVisibleTo(editor)
    assert form.set_kind("Network")
    assert session.scene.surface.network == NetworkSpec()
    assert isinstance(session.surface, LandscapeSurface) and not session.surface.pending
    assert isinstance(session.trajectory, LandscapeTrajectory)
    assert form.isVisibleTo(editor) and form.hidden_edit.text() == "16x8"
    assert not editor.expression_edit.isVisibleTo(editor)
    assert "PC1" in form.status_label.text()

    form.hidden_edit.setText("6x")
    assert not form.apply_hidden()
    assert form.error_label.text() and session.scene.surface.network == NetworkSpec()
    form.hidden_edit.setText("6")
    assert form.apply_hidden()
    assert session.scene.surface.network.hidden == (6,)  # type: ignore[union-attr]
    assert session.trajectory.dim == 64 * 6 + 6 + 7  # type: ignore[union-attr]
    # The window draws plane coordinates: it keeps none of the weights (hundreds of MB for a
    # wide network, which an edit's training would hold a second copy of).
    assert session.trajectory.params.size == 0  # type: ignore[union-attr]

    session.undo_stack.undo()
    assert session.scene.surface.network == NetworkSpec()
    session.undo_stack.undo()
    assert session.scene.surface.network is None
    assert session.trajectory is not None and session.trajectory.positions.shape[2] == 2
    # The surface rows are back, and the widgets hidden on purpose stay hidden.
    assert editor.expression_edit.isVisibleTo(editor) and not form.isVisibleTo(editor)
    assert not editor.compiling_label.isVisibleTo(editor)
    assert not editor.error_label.isVisibleTo(editor)


def test_a_network_too_large_to_keep_is_refused_in_the_form(qtbot) -> None:
    session = Session(network_scene(), threaded=False)
    editor = SurfaceEditor(session)
    qtbot.addWidget(editor)
    session.edit_scene(Scene(surface=session.scene.surface, runs=session.scene.runs, steps=20_000))
    form = editor.network_form
    form.hidden_edit.setText("128x128")
    assert not form.apply_hidden()
    assert "MB to keep" in form.error_label.text()
    assert session.scene.surface.network.hidden == (6,)  # type: ignore[union-attr]


def test_training_runs_off_the_gui_thread_with_the_busy_cue(qtbot, tmp_path: Path) -> None:
    session = Session(network_scene())
    busy: list[bool] = []
    session.busyChanged.connect(busy.append)
    session.edit_scene(
        Scene(surface=session.scene.surface, runs=session.scene.runs, steps=30, seed=1)
    )
    assert session.busy  # returned at once: the worker trains
    assert session.wait_for_simulation(60_000)
    assert busy[-1] is False
    assert isinstance(session.surface, LandscapeSurface) and not session.surface.pending
    assert session.trajectory is not None and session.trajectory.steps == 30

    path = tmp_path / "net.json"
    session.save(path)
    other = Session(surface_scene(), threaded=False)
    other.open(path)
    assert other.scene == session.scene
    np.testing.assert_array_equal(other.trajectory.positions, session.trajectory.positions)
    np.testing.assert_array_equal(
        other.trajectory.val_loss,  # type: ignore[union-attr]
        session.trajectory.val_loss,  # type: ignore[union-attr]
    )
    session.deleteLater()
    other.deleteLater()


def test_the_lower_plot_shows_validation_accuracy(qtbot) -> None:
    session = Session(network_scene(), threaded=False)
    view = LossView(session)
    qtbot.addWidget(view)
    view.set_second("Accuracy")
    assert view.second_plot.field == "accuracy"

    def points() -> int:
        return sum(
            0 if c.getData()[1] is None else len(c.getData()[1]) for c in view.second_plot.curves
        )

    assert points() > 0
    # A share in [0, 1] on a linear axis, even with the loss plot on a log scale (and no
    # "(linear)" note: nothing fell back).
    view.set_log(True)
    assert view.loss_plot.log and not view.second_plot.log
    assert "linear" not in view.second_plot.getPlotItem().getAxis("left").labelText
    ys = np.concatenate(
        [c.getData()[1] for c in view.second_plot.curves if c.getData()[1] is not None]
    )
    assert np.nanmin(ys) >= 0.0 and np.nanmax(ys) <= 1.0
    session.replace_scene(surface_scene())  # a surface trajectory has no accuracy: no curve
    assert points() == 0
