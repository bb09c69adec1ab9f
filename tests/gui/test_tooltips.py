"""Every control a user can see in the window says what it does when hovered."""

from __future__ import annotations

from PyQt6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTextEdit,
    QWidget,
)

INPUT_TYPES = (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QAbstractSlider,
    QLineEdit,
    QTextEdit,
    QPlainTextEdit,
    QAbstractItemView,
)


def is_control(widget: QWidget) -> bool:
    """A widget of the panels a user types into, clicks, drags or picks from: not the inside
    of one (a spin box's line edit, a table's header), a scroll area's bars, nor Qt's own
    window chrome (a dock's float and close buttons, named `qt_...`)."""
    if not isinstance(widget, INPUT_TYPES) or isinstance(widget, QScrollBar):
        return False
    if widget.objectName().startswith("qt_"):
        return False
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, INPUT_TYPES):
            return False
        parent = parent.parentWidget()
    return True


def describe(widget: QWidget) -> str:
    text = getattr(widget, "text", lambda: "")()
    return (
        f"{type(widget).__name__} {widget.objectName()!r} {text!r} in "
        f"{type(widget.parentWidget()).__name__}"
    )


def visible_controls(window: QWidget) -> list[QWidget]:
    return [w for w in window.findChildren(QWidget) if w.isVisible() and is_control(w)]


def test_every_visible_control_has_a_tooltip(window) -> None:
    controls = visible_controls(window)
    assert len(controls) > 30  # the panels are really there
    missing = [describe(w) for w in controls if not w.toolTip().strip()]
    assert missing == [], "\n".join(missing)


def test_a_data_fit_scene_and_a_schedule_keep_every_tooltip(window) -> None:
    """Controls that appear only for some runs (batch size, a schedule's keys) have one too."""
    from studio.editing import pick_preset
    from studio.surface import PRESETS

    session = window.session
    data_fit = next(name for name, p in PRESETS.items() if p.data_fit)
    assert session.edit_scene(pick_preset(session.scene, data_fit), "preset")
    assert session.wait_for_simulation()
    window.optimizer_panel.set_hyper("schedule", "cosine_restarts")
    assert session.wait_for_simulation()
    editors = window.optimizer_panel.editors
    assert editors["T0"].isVisible() and editors["batch_size"].isVisible()
    controls = visible_controls(window)
    missing = [describe(w) for w in controls if not w.toolTip().strip()]
    assert missing == [], "\n".join(missing)
