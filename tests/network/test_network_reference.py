"""The plain one-network reference trainer, and the vectorised objective checked against it."""

from __future__ import annotations

import numpy as np
import pytest

from studio.network.model import NetworkObjective, NetworkSpec
from studio.network.reference import OPTIMIZERS, loss_and_grad, train


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_trains_digits01(optimizer: str) -> None:
    spec = NetworkSpec(hidden=(6,))
    lr = {
        "sgd": 0.5,
        "momentum": 0.1,
        "nesterov": 0.1,
        "adagrad": 0.05,
        "adadelta": 1.0,
        "rmsprop": 0.01,
        "adam": 0.01,
        "adamw": 0.01,
        "amsgrad": 0.01,
        "nadam": 0.01,
    }
    path, loss = train(spec, optimizer, {"lr": lr[optimizer]}, steps=60)
    assert path.shape == (61, spec.n_params) and loss.shape == (61,)
    assert loss[-1] < 0.5 * loss[0]
    data = NetworkObjective(spec).task_data
    assert loss[-1] == pytest.approx(loss_and_grad(spec, path[-1], data.x_train, data.y_train)[0])


def test_first_steps_follow_the_written_rules() -> None:
    spec = NetworkSpec(hidden=(5,))
    obj = NetworkObjective(spec)
    theta0 = obj.initial_params()
    g0 = obj.value_and_grad(theta0[None])[1][0]
    path, _ = train(spec, "sgd", {"lr": 0.3}, steps=1)
    np.testing.assert_allclose(path[1], theta0 - 0.3 * g0, rtol=1e-12)
    path, _ = train(spec, "adam", {"lr": 0.01}, steps=1)
    # Adam's first step is lr · g / (|g| + eps) per coordinate.
    np.testing.assert_allclose(path[1], theta0 - 0.01 * g0 / (np.abs(g0) + 1e-8), rtol=1e-9)
    path, _ = train(spec, "sgd", {"lr": 0.3, "weight_decay": 0.1}, steps=1)
    np.testing.assert_allclose(path[1], theta0 - 0.3 * (g0 + 0.1 * theta0), rtol=1e-12)


def test_vectorised_sgd_agrees_with_the_reference_over_100_steps() -> None:
    spec = NetworkSpec()
    obj = NetworkObjective(spec)
    lrs = np.array([0.1, 0.5, 1.0])[:, None]
    params = np.tile(obj.initial_params(), (3, 1))
    for _ in range(100):
        params = params - lrs * obj.value_and_grad(params)[1]
    for run, lr in enumerate(lrs[:, 0]):
        path, _ = train(spec, "sgd", {"lr": float(lr)}, steps=100)
        np.testing.assert_allclose(params[run], path[-1], rtol=1e-9, atol=1e-12)
