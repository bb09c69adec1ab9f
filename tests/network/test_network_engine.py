"""The engine trains networks: `simulate` on a `NetworkObjective` against the plain reference."""

from __future__ import annotations

import numpy as np
import pytest

from studio.engine import simulate
from studio.network.landscape import network_objective, network_starts
from studio.network.model import NetworkSpec
from studio.network.reference import DEFAULTS, OPTIMIZERS, train
from studio.scene import RunSpec

# Rates at which every optimizer moves visibly within 100 steps on the default network.
LRS = {
    "sgd": 0.5,
    "momentum": 0.05,
    "nesterov": 0.05,
    "adagrad": 0.02,
    "adadelta": 1.0,
    "rmsprop": 0.002,
    "adam": 0.005,
    "adamw": 0.005,
    "amsgrad": 0.005,
    "nadam": 0.005,
}


def test_the_objective_meets_the_engine_protocol() -> None:
    obj = network_objective(NetworkSpec(hidden=(4,)))
    params = np.tile(obj.initial_params(), (2, 1))
    rows = np.array([[0, 1, 2], [3, 4, 5]])
    assert obj.n_rows == obj.n_train > 0
    np.testing.assert_array_equal(obj.grad_rows(params, rows), obj.value_and_grad(params, rows)[1])
    with pytest.raises(ValueError):
        obj.grad_rows(params, rows[:1])


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_engine_trajectories_agree_with_the_reference(optimizer: str) -> None:
    spec = NetworkSpec()
    obj = network_objective(spec)
    hyper = {**DEFAULTS[optimizer], "lr": LRS[optimizer]}
    run = RunSpec(optimizer=optimizer, hyper={**hyper, "tol": 0.0})
    traj = simulate(obj, [run], 100, seed=0, starts=network_starts(obj, [run]))
    path, loss = train(spec, optimizer, hyper, params0=traj.positions[0, 0], steps=100)
    np.testing.assert_allclose(traj.positions[:, 0], path, rtol=0, atol=1e-6)
    np.testing.assert_allclose(traj.loss[:, 0], loss, rtol=1e-9, atol=1e-12)
    assert np.abs(path[-1] - path[0]).max() > 1e-3  # it really trained


def test_every_run_starts_from_the_specs_initial_weights() -> None:
    spec = NetworkSpec(hidden=(5,), init_seed=7)
    obj = network_objective(spec)
    runs = [RunSpec("sgd", {"lr": 0.1}), RunSpec("adam", {"lr": 0.01})]
    traj = simulate(obj, runs, 3, seed=0, starts=network_starts(obj, runs))
    for b in range(2):
        np.testing.assert_array_equal(traj.positions[0, b], obj.initial_params())
