"""`studio bench --only window`: the played window paints new 3D frames, in both hosts."""

from __future__ import annotations

from studio.bench.window import played_fps


def test_playing_window_paints_new_3d_frames(qapp) -> None:
    assert played_fps(1.0) > 3
    assert played_fps(1.0, widget_baseline=True) > 1
