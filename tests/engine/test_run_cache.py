"""RunCache: after any edit, the same trajectory as simulating the whole scene, bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from studio.engine import RunCache, Trajectory, simulate
from studio.scene import RunSpec
from studio.surface import preset_surface

FIELDS = ("positions", "loss", "grad_norm", "lr", "status", "stop_step", "ball_run")


def same(a: Trajectory, b: Trajectory) -> None:
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.ball_label == b.ball_label and a.run_slices == b.run_slices


def race() -> list[RunSpec]:
    """Every kind of randomness and state the engine has, one run each."""
    return [
        RunSpec("sgd", {"lr": 0.001, "grad_noise": 0.3}, ((-1.5, 2.0),)),
        RunSpec("nesterov", {"lr": 0.0003}, ((-1.5, 2.0),)),
        RunSpec(
            "adam", {"lr": 0.05, "schedule": "cosine_restarts", "T0": 20}, ((-1.0, 1.0), (0.5, 2.5))
        ),
        RunSpec("easgd", {"lr": 0.001}, ((-1.5, 2.0),)),
        RunSpec("noise_training", {"lr": 0.01}, ((0.0, 0.0),)),
        RunSpec("rmsprop", {"lr": 0.01, "max_delay": 5}, ((1.5, -0.5),)),
        RunSpec("sgd", {"lr": 0.5}, ((-1.5, 2.0),)),  # diverges
        RunSpec("adagrad", {"lr": 0.3}, grid=(3, 3)),
    ]


EDITS = [
    ("tune one run", lambda runs: [dataclasses.replace(runs[2], hyper={"lr": 0.02}), 2]),
    ("move a start", lambda runs: [dataclasses.replace(runs[0], starts=((0.0, 2.5),)), 0]),
    ("recolour", lambda runs: [dataclasses.replace(runs[1], color="#123456"), 1]),
    ("disable", lambda runs: [dataclasses.replace(runs[3], enabled=False), 3]),
    ("rename", lambda runs: [dataclasses.replace(runs[5], label="mine"), 5]),
    ("tune a noisy run", lambda runs: [dataclasses.replace(runs[3], hyper={"lr": 0.002}), 3]),
]


@pytest.mark.parametrize("edit", EDITS, ids=[name for name, _ in EDITS])
def test_an_edit_gives_the_whole_scenes_trajectory(edit) -> None:
    surface = preset_surface("rosenbrock")
    runs = race()
    cache = RunCache()
    same(cache.simulate(surface, runs, 150, 7), simulate(surface, runs, 150, 7))
    changed, index = edit[1](runs)
    runs[index] = changed
    same(cache.simulate(surface, runs, 150, 7), simulate(surface, runs, 150, 7))


def test_adding_removing_and_reordering_runs() -> None:
    surface = preset_surface("himmelblau")
    runs = race()
    cache = RunCache()
    cache.simulate(surface, runs, 80, 1)
    for edited in (runs + [RunSpec("adam", {"lr": 0.1}, ((1.0, 1.0),))], runs[1:], runs[::-1], []):
        same(cache.simulate(surface, edited, 80, 1), simulate(surface, edited, 80, 1))


def test_mini_batches_on_a_data_fit_surface() -> None:
    surface = preset_surface("sigmoid_neuron")
    runs = [
        RunSpec("sgd", {"lr": 0.5, "batch_size": 2}, ((-2.0, -2.0),)),
        RunSpec("adam", {"lr": 0.05, "batch_size": 1}, ((-6.0, 4.0),)),
    ]
    cache = RunCache()
    cache.simulate(surface, runs, 60, 3)
    runs[1] = dataclasses.replace(runs[1], hyper={"lr": 0.1, "batch_size": 1})
    same(cache.simulate(surface, runs, 60, 3), simulate(surface, runs, 60, 3))


def test_a_new_surface_steps_or_seed_start_afresh() -> None:
    runs = race()[:3]
    cache = RunCache()
    cache.simulate(preset_surface("rosenbrock"), runs, 50, 0)
    for surface, steps, seed in (
        (preset_surface("beale"), 50, 0),
        (preset_surface("beale"), 70, 0),
        (preset_surface("beale"), 70, 4),
    ):
        same(cache.simulate(surface, runs, steps, seed), simulate(surface, runs, steps, seed))


def test_growing_past_the_cache_limit_simulates_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turning on a big start grid: one engine call, the right trajectory, nothing kept."""
    from studio.engine import run_cache

    surface = preset_surface("himmelblau")
    runs = [RunSpec("adam", {"lr": 0.05}, ((1.0, 1.0),)), RunSpec("sgd", {"lr": 0.01})]
    cache = RunCache()
    cache.simulate(surface, runs, 500, 0)
    calls = []
    real = run_cache.simulate
    monkeypatch.setattr(run_cache, "simulate", lambda *a, **k: calls.append(a) or real(*a, **k))
    runs[1] = dataclasses.replace(runs[1], grid=(64, 64))  # 4097 balls x 501 steps
    same(cache.simulate(surface, runs, 500, 0), simulate(surface, runs, 500, 0))
    assert len(calls) == 1 and not cache._parts
