"""Small helpers for the GUI tests: a shown widget, a real mouse drag."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication, QWidget


def drag(
    target: QObject, start: tuple[float, float] = (60, 60), end: tuple[float, float] = (120, 80)
) -> None:
    """Press the left button at `start`, move to `end`, release: what a user's turn is."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, pos, button, buttons in (
        (QEvent.Type.MouseButtonPress, start, left, left),
        (QEvent.Type.MouseMove, end, none, left),
        (QEvent.Type.MouseButtonRelease, end, left, none),
    ):
        point = QPointF(*pos)
        QApplication.sendEvent(
            target, QMouseEvent(kind, point, point, button, buttons, Qt.KeyboardModifier.NoModifier)
        )


def shown(qtbot, widget: QWidget, size: tuple[int, int]) -> QWidget:
    """`widget` registered with qtbot, resized, shown and exposed (painted for real)."""
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
