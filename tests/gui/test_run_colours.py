"""Every run colour reads on the light background; the run keeps the colour it stores."""

from __future__ import annotations

import pytest
from PyQt6.QtGui import QColor

from studio.gui.session import Session
from studio.gui.theme import DARK, LIGHT, MIN_RUN_CONTRAST, contrast_ratio
from studio.gui.views import LossView
from studio.gui.views.legend import legend_html
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

from qt_helpers import shown

YELLOW = "#f0e442"


def test_contrast_ratio_is_wcags() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert contrast_ratio(YELLOW, LIGHT.background) < 1.5  # why this exists


@pytest.mark.parametrize("color", PALETTE)
@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_every_palette_colour_reads_at_3_to_1(theme, color: str) -> None:
    drawn = theme.run_color(color)
    assert contrast_ratio(drawn, theme.background) >= MIN_RUN_CONTRAST
    if contrast_ratio(color, theme.background) >= MIN_RUN_CONTRAST:
        assert drawn == color  # only the colours that need it change
    else:  # the same hue, only darker (light theme) or lighter (dark theme)
        a, b = QColor(color), QColor(drawn)
        assert abs(a.hslHue() - b.hslHue()) <= 4
        assert (b.lightness() < a.lightness()) == (theme is LIGHT)


@pytest.mark.parametrize("color", ["#ffffff", "#fffff0", "#00ff00", "#808080", "#000000"])
def test_any_picked_colour_reads_too(color: str) -> None:
    for theme in (LIGHT, DARK):
        assert contrast_ratio(theme.run_color(color), theme.background) >= MIN_RUN_CONTRAST


def test_the_light_loss_plot_draws_yellow_darker_and_the_run_keeps_yellow(qtbot) -> None:
    run = RunSpec("adam", {"lr": 0.05}, ((-1.5, 2.0),), label="Adam", color=YELLOW)
    session = Session(
        Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=(run,), steps=30), threaded=False
    )
    view = shown(qtbot, LossView(session), (600, 400))

    def pen_colour() -> str:
        curve = next(
            c
            for c in view.loss_plot.getPlotItem().listDataItems()
            if getattr(c, "run_index", -1) == 0
        )
        return curve.opts["pen"].color().name()

    assert pen_colour() == YELLOW  # the dark theme draws it as it is
    view.set_dark(False)
    assert pen_colour() == LIGHT.run_color(YELLOW) != YELLOW
    assert contrast_ratio(pen_colour(), LIGHT.background) >= MIN_RUN_CONTRAST
    assert session.scene.runs[0].color == YELLOW
    view.set_dark(True)
    assert pen_colour() == YELLOW
    assert LIGHT.run_color(YELLOW) in legend_html(session.scene.runs, None, None, LIGHT)
    assert YELLOW in legend_html(session.scene.runs, None, None, DARK)
