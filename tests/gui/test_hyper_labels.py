"""The run form calls hyperparameters by human labels and keeps the raw key in the tooltip."""

from __future__ import annotations

import pytest
from PyQt6.QtWidgets import QFormLayout, QLabel

from studio.engine import OPTIMIZERS, SCHEDULES
from studio.gui.panels.optimizer_panel import OptimizerPanel
from studio.gui.session import Session
from studio.scene import RunSpec, Scene, SurfaceSpec

from qt_helpers import shown


def test_every_registry_key_has_a_human_label() -> None:
    keys = [h for o in OPTIMIZERS.values() for h in o.hyper.values()]
    keys += [h for s in SCHEDULES.values() for h in s.keys]
    assert all(h.label and h.title == h.label for h in keys)
    assert {h.key: h.label for h in keys if h.key in ("noise_gamma", "max_delay", "T0")} == {
        "noise_gamma": "noise γ",
        "max_delay": "max delay",
        "T0": "T₀",
    }


def form_labels(panel: OptimizerPanel) -> dict[str, QLabel]:
    """Each editor's row label in the form, by key."""
    out = {}
    for key, editor in panel.editors.items():
        layout = editor.parentWidget().layout()
        assert isinstance(layout, QFormLayout)
        label = layout.labelForField(editor)
        assert isinstance(label, QLabel)
        out[key] = label
    return out


@pytest.fixture
def panel(qtbot) -> OptimizerPanel:
    run = RunSpec("sgd", {"lr": 0.01, "schedule": "cosine_restarts", "T0": 20}, ((-1.5, 2.0),))
    session = Session(
        Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=(run,), steps=20), threaded=False
    )
    return shown(qtbot, OptimizerPanel(session), (420, 900))


def test_form_rows_read_as_labels_and_tooltips_name_the_key(panel: OptimizerPanel) -> None:
    labels = form_labels(panel)
    shown_text = {key: label.text() for key, label in labels.items()}
    assert shown_text["noise_gamma"] == "noise γ"
    assert shown_text["max_delay"] == "max delay"
    assert shown_text["T0"] == "T₀"
    assert shown_text["lr"] == "learning rate η"
    for key, label in labels.items():
        assert label.toolTip().startswith(f"{key} — ")
        editor = panel.editors[key]
        control = editor.spin or editor.combo
        assert control is not None and control.toolTip().startswith(f"{key} — ")
    slider = panel.editors["lr"].slider
    assert slider is not None and slider.toolTip().startswith("lr — learning rate η")
    assert "log scale" in slider.toolTip()
