"""3D axis names sit clear of the tick labels, however long the name (a network scene's
"PC2 11%" at the middle of its axis covered the tick label there)."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QFont, QFontMetricsF, QImage

from studio.gui.session import Session
from studio.gui.views import view3d
from studio.scene import RunSpec, Scene, SurfaceSpec

from qt_helpers import shown


@pytest.mark.parametrize("names", [("x", "y"), ("PC1 81% of variance", "PC2 11% of variance")])
@pytest.mark.parametrize("camera", [(-60.0, 32.0), (-20.0, 25.0), (35.0, 40.0)])
def test_axis_names_clear_the_tick_labels(qtbot, monkeypatch, names, camera) -> None:
    scene = Scene(
        surface=SurfaceSpec(expression="0.1*x^2 + 2*y^2", domain=(-7.0, 7.0, -7.0, 7.0)),
        runs=(RunSpec("adam", {"lr": 0.4}, ((-6.0, -6.0),)),),
        steps=20,
    )
    session = Session(scene, threaded=False)
    view = shown(qtbot, view3d.View3D(session), (800, 450))
    view.set_camera(*camera, 17.0)
    drawn: list[tuple[np.ndarray, str, int]] = []
    monkeypatch.setattr(view3d, "axis_names", lambda _surface: names)
    monkeypatch.setattr(
        view3d,
        "_centred_text",
        lambda painter, at, text: drawn.append((np.asarray(at), text, painter.font().pixelSize())),
    )
    image = QImage(view.width(), view.height(), QImage.Format.Format_ARGB32_Premultiplied)
    view.makeCurrent()
    view.overlay_item.paint_on(image, True, False)
    view.doneCurrent()

    def box(at: np.ndarray, text: str, px: int, bold: bool) -> QRectF:
        font = QFont()
        font.setPixelSize(px)
        font.setBold(bold)
        return view3d._text_box(QFontMetricsF(font), at, text, 0.0)

    ticks = [box(at, text, px, False) for at, text, px in drawn if text not in names]
    labels = [box(at, text, px, True) for at, text, px in drawn if text in names]
    assert len(labels) == 2 and len(ticks) >= 6
    for label in labels:
        assert not any(label.intersects(tick) for tick in ticks)
    session.pause()
