"""Automatic run labels tell runs apart (`studio.engine.run_labels`)."""

from __future__ import annotations

from studio.engine import run_labels, simulate_scene
from studio.scene import RunSpec, Scene, SurfaceSpec


def test_four_adam_runs_from_four_starts_read_differently() -> None:
    runs = [RunSpec("adam", {"lr": 0.05}, ((float(i), 1.0),)) for i in range(4)]
    labels = run_labels(runs)
    assert len(set(labels)) == 4
    assert labels[0] == "Adam (lr 0.05, from (0, 1))"


def test_a_differing_hyperparameter_comes_before_the_start() -> None:
    runs = [RunSpec("adam", {"lr": 0.05, "beta1": b}) for b in (0.9, 0.8)]
    assert run_labels(runs) == ["Adam (lr 0.05, beta1 0.9)", "Adam (lr 0.05, beta1 0.8)"]


def test_distinct_and_user_labels_are_kept_and_twins_are_numbered() -> None:
    runs = [
        RunSpec("sgd", {"lr": 0.1}),
        RunSpec("adam", label="mine"),
        RunSpec("adam", label="mine"),
        RunSpec("momentum"),
        RunSpec("momentum"),
    ]
    labels = run_labels(runs)
    assert labels[:3] == ["SGD (lr 0.1)", "mine", "mine"]
    assert labels[3].endswith("#1)") and labels[4].endswith("#2)")


def test_trajectory_ball_labels_use_them() -> None:
    scene = Scene(
        surface=SurfaceSpec(preset="bowl"),
        runs=tuple(RunSpec("adam", {"lr": 0.05}, ((float(i), 1.0),)) for i in range(2)),
        steps=3,
    )
    _surface, traj = simulate_scene(scene)
    assert traj.ball_label[0] != traj.ball_label[1]
