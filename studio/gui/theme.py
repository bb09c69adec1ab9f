"""Dark and light themes: one QPalette for the widgets and matching colours for the plots.

Views do not read global pyqtgraph options (they only affect widgets created later); each
view takes a `Theme` in `set_dark`, so switching themes repaints every open view at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication


@dataclass(frozen=True)
class Theme:
    dark: bool
    background: str     # plot and 3D background
    foreground: str     # axes, text
    grid: str           # isolines and faint guides (with alpha)
    panel: str          # overlay labels' backing (with alpha)
    diverged: str
    converged: str
    outline: str        # the rim drawn round each ball so it reads over any colormap


DARK = Theme(True, "#16181d", "#d8dce4", "#ffffff40", "#16181dcc", "#ff4d4f", "#ffffff",
             "#0b0c0f")
LIGHT = Theme(False, "#fbfbfc", "#23262d", "#00000038", "#fbfbfccc", "#d62728", "#111111",
              "#ffffff")


def theme_for(dark: bool) -> Theme:
    return DARK if dark else LIGHT


def apply_palette(app: QApplication, dark: bool) -> None:
    """Fusion with a hand-made palette looks the same on every platform and in Xvfb."""
    app.setStyle("Fusion")
    if not dark:
        app.setPalette(app.style().standardPalette())
        return
    p = QPalette()
    base, window, text = QColor("#1e2027"), QColor("#272a33"), QColor("#dfe2ea")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: window,
        QPalette.ColorRole.ToolTipBase: window,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#8a8f9c"),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Link: QColor("#56b4e9"),
        QPalette.ColorRole.Highlight: QColor("#3d7bd9"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Mid: QColor("#3a3e49"),
        QPalette.ColorRole.Dark: QColor("#15171c"),
        QPalette.ColorRole.Light: QColor("#3a3e49"),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    dim = QColor("#7d828e")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, dim)
    app.setPalette(p)
