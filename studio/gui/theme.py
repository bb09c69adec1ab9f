"""Dark and light themes: one QPalette for the widgets and matching colours for the plots.

Views do not read global pyqtgraph options (they only affect widgets created later); each
view takes a `Theme` in `set_dark`, so switching themes repaints every open view at once.

Run colours: a run stores one colour (the Okabe–Ito palette by default, or the user's pick)
and every theme draws it through `Theme.run_color`, which keeps its hue and saturation and
only moves its lightness until it stands out from the theme's background by a contrast
ratio of at least `MIN_RUN_CONTRAST` (WCAG 2's 3:1 for graphics). On the light background
the pale palette colours (yellow #f0e442, sky blue, orange) are drawn darker; the stored
colour, the scene file and the colour dialog keep the original.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from functools import lru_cache

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication


@dataclass(frozen=True)
class Theme:
    dark: bool
    background: str  # plot and 3D background
    foreground: str  # axes, text
    grid: str  # isolines and faint guides (with alpha)
    panel: str  # overlay labels' backing (with alpha)
    diverged: str
    converged: str
    outline: str  # the rim drawn round each ball so it reads over any colormap

    def run_color(self, color: str) -> str:
        """How this theme draws a run whose stored colour is `color` ("#rrggbb"): the same
        hue, darkened (light theme) or lightened (dark theme) only as far as it takes to
        reach a 3:1 contrast with the background."""
        return readable_on(color, self.background)


MIN_RUN_CONTRAST = 3.0


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(color: str) -> tuple[float, float, float]:
    q = QColor(color)
    return q.redF(), q.greenF(), q.blueF()


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    r, g, b = (_channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 (the same) to 21 (black on white)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


@lru_cache(maxsize=256)
def readable_on(color: str, background: str, minimum: float = MIN_RUN_CONTRAST) -> str:
    """`color` with its HLS lightness moved towards black (on a light background) or white
    (on a dark one) just far enough for `minimum` contrast; `color` itself if it already
    has it. Bisection on lightness: contrast is monotonic in it for a fixed hue."""
    if contrast_ratio(color, background) >= minimum:
        return QColor(color).name()
    h, lightness, s = colorsys.rgb_to_hls(*_rgb(color))
    toward_dark = relative_luminance(background) > 0.18

    def at(light: float) -> str:
        r, g, b = colorsys.hls_to_rgb(h, light, s)
        return QColor.fromRgbF(r, g, b).name()

    # `good` always passes (black or white does against these backgrounds), `bad` never.
    good, bad = (0.0, lightness) if toward_dark else (1.0, lightness)
    for _ in range(30):
        mid = (good + bad) / 2
        if contrast_ratio(at(mid), background) >= minimum:
            good = mid
        else:
            bad = mid
    return at(good)


DARK = Theme(True, "#16181d", "#d8dce4", "#ffffff40", "#16181dcc", "#ff4d4f", "#ffffff", "#0b0c0f")
LIGHT = Theme(
    False, "#fbfbfc", "#23262d", "#00000038", "#fbfbfccc", "#d62728", "#111111", "#ffffff"
)


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
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, dim)
    app.setPalette(p)
