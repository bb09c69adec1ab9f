"""The application icon (assets/icon.png, drawn from assets/icon.svg)."""

from __future__ import annotations

from PyQt6.QtGui import QIcon

from studio.resources import asset_path


def app_icon() -> QIcon:
    """Descent Studio's icon, for the window and the application (`app.setWindowIcon`)."""
    return QIcon(str(asset_path("icon.png")))
