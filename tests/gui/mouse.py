"""A real mouse drag for GL views (QTest's mouseMove carries no pressed buttons)."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication


def drag(target: QObject, start: tuple[float, float] = (60, 60),
         end: tuple[float, float] = (120, 80)) -> None:
    """Press the left button at `start`, move to `end`, release: what a user's turn is."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, pos, button, buttons in (
            (QEvent.Type.MouseButtonPress, start, left, left),
            (QEvent.Type.MouseMove, end, none, left),
            (QEvent.Type.MouseButtonRelease, end, left, none)):
        point = QPointF(*pos)
        QApplication.sendEvent(target, QMouseEvent(kind, point, point, button, buttons,
                                                   Qt.KeyboardModifier.NoModifier))
