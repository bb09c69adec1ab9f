"""`studio bench --only window`: the played window paints new 3D frames, in both hosts."""

from __future__ import annotations

from studio.bench.window import played_fps


def test_playing_window_paints_new_3d_frames(qapp) -> None:
    assert played_fps(1.0) > 3
    assert played_fps(1.0, widget_baseline=True) > 1


def test_a_parameter_drag_paints_new_surfaces(qapp) -> None:
    from studio.bench.window import _scene, drag_fps

    fps, gap = drag_fps(_scene(100), "b", 1.5)
    assert fps > 1 and gap > 0


def test_memory_bench_finds_the_largest_accepted_steps() -> None:
    from studio.bench.memory import _scene, largest_steps
    from studio.engine.memory import MEMORY_LIMIT, render_bytes

    panels = ("3d", "contour", "loss")
    steps = largest_steps(1, 64, panels, (4096, 2304))
    assert 100 < steps < 2928
    assert render_bytes(_scene(1, 64, steps), panels, (4096, 2304)) <= MEMORY_LIMIT
    assert render_bytes(_scene(1, 64, steps + 1), panels, (4096, 2304)) > MEMORY_LIMIT
    assert largest_steps(64, 64, panels, (4096, 2304)) == 0
