"""Playback bar ⇄ session."""

from __future__ import annotations

from PyQt6.QtCore import Qt

from studio.gui.panels.playback_bar import PlaybackBar
from studio.gui.session import Session
from studio.scene import RunSpec, Scene


def make_bar(qtbot) -> tuple[PlaybackBar, Session]:
    scene = Scene(runs=(RunSpec("sgd", {"lr": 0.001}, ((-1.0, 2.0),)),), steps=200)
    session = Session(scene, threaded=False)
    bar = PlaybackBar(session)
    qtbot.addWidget(bar)
    return bar, session


def test_slider_scrubs_and_follows(qtbot) -> None:
    bar, session = make_bar(qtbot)
    assert bar.slider.maximum() == 200
    bar.slider.setValue(123)
    assert session.frame == 123
    session.set_frame(7)
    assert bar.slider.value() == 7 and "step 7 / 200" in bar.step_label.text()


def test_play_advances_and_keys_step(qtbot) -> None:
    bar, session = make_bar(qtbot)
    bar.show()
    bar.activateWindow()
    qtbot.waitActive(bar)  # window-scope shortcuts need an active window
    bar.stride_spin.setValue(5)
    bar.play_action.trigger()
    assert session.playing
    qtbot.waitUntil(lambda: session.frame >= 20, timeout=5000)
    qtbot.keyClick(bar, Qt.Key.Key_Space)
    assert not session.playing
    frame = session.frame
    qtbot.keyClick(bar, Qt.Key.Key_Right)
    assert session.frame == frame + 5
    qtbot.keyClick(bar, Qt.Key.Key_Left)
    assert session.frame == frame
    bar.end_action.trigger()
    assert session.frame == 200
    qtbot.keyClick(bar, Qt.Key.Key_Home)
    assert session.playing and session.frame <= 10
    session.pause()
