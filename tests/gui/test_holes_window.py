"""The window with a start in a hole of f: the reason in the status bar, nothing breaks."""

from __future__ import annotations

from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec


def test_window_opens_a_scene_with_a_start_in_a_hole(qtbot, window) -> None:
    session = window.session
    bad = Scene(
        surface=SurfaceSpec(preset=None, expression="sqrt(x*y)"),
        runs=(RunSpec("sgd", {}, ((1.0, -1.0),), label="SGD", color=PALETTE[1]),),
        steps=10,
    )
    with qtbot.waitSignal(session.errorRaised, timeout=10000) as blocker:
        session.replace_scene(bad)
    assert "start (1, -1) is where f is undefined" in blocker.args[0]
    for frame in (0, 5, 10):  # playing on over the old paths breaks nothing
        session.set_frame(frame)
    qtbot.wait(100)
    shown = window.optimizer_panel.status_label
    assert "run 'SGD': start (1, -1) is where f is undefined" in shown.text()
    assert shown.isVisibleTo(window)
    assert "f is undefined on part of the domain" in window.surface_editor.undefined_text
