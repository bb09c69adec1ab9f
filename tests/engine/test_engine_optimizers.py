"""Every optimizer and schedule against the plain reference loop, torch.optim, and convergence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studio.engine import CONVERGED, OPTIMIZERS, simulate
from studio.engine.reference import (
    GRADIENT_RULES,
    reference_easgd,
    reference_lr,
    reference_path,
)
from studio.engine.registry import validate_hyper
from studio.scene import RunSpec

from engine_surfaces import Beale, Bowl, Rosenbrock

START = np.array([1.5, -0.7])


def bowl_grad(p: np.ndarray) -> np.ndarray:
    return np.array([2 * p[0], 20 * p[1]])


ADAM = {"lr": 0.1, "beta1": 0.8, "beta2": 0.95, "eps": 1e-3}
COS = {"schedule": "cosine_restarts", "T0": 2, "T_mult": 1, "eta_min": 0.01}
# (optimizer, hyperparameters, learning rates of updates 0 and 1 written out by hand)
TABLE: list[tuple[str, dict[str, Any], list[float]]] = [
    ("sgd", {"lr": 0.03}, [0.03, 0.03]),
    ("sgd", {"lr": 0.03, "weight_decay": 0.5}, [0.03, 0.03]),
    ("sgd", {"lr": 0.03, "schedule": "step", "step_size": 1, "gamma": 0.5}, [0.03, 0.015]),
    ("sgd", {"lr": 0.03, "schedule": "exponential", "gamma": 0.9}, [0.03, 0.027]),
    ("sgd", {"lr": 0.03, **COS}, [0.03, 0.01 + 0.02 * 0.5]),
    ("sgd", {"lr": 0.03, "schedule": "warmup", "warmup": 2}, [0.015, 0.03]),
    ("sgd", {"lr": 0.03, "delay": 1}, [0.03, 0.03]),
    ("momentum", {"lr": 0.02, "momentum": 0.7}, [0.02, 0.02]),
    (
        "momentum",
        {"lr": 0.02, "momentum": 0.7, "schedule": "step", "step_size": 1, "gamma": 0.5},
        [0.02, 0.01],
    ),
    ("momentum", {"lr": 0.02, "momentum": 0.7, "weight_decay": 0.2, "delay": 2}, [0.02, 0.02]),
    ("nesterov", {"lr": 0.02, "momentum": 0.7}, [0.02, 0.02]),
    (
        "nesterov",
        {"lr": 0.02, "momentum": 0.7, "schedule": "exponential", "gamma": 0.5},
        [0.02, 0.01],
    ),
    ("nesterov", {"lr": 0.02, "momentum": 0.7, "weight_decay": 0.3, "delay": 1}, [0.02, 0.02]),
    ("adagrad", {"lr": 0.3, "eps": 1e-3}, [0.3, 0.3]),
    ("adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-3}, [0.5, 0.5]),
    ("rmsprop", {"lr": 0.05, "alpha": 0.8, "eps": 1e-3}, [0.05, 0.05]),
    ("rmsprop", {"lr": 0.05, "alpha": 0.8, "eps": 1e-3, **COS}, [0.05, 0.01 + 0.04 * 0.5]),
    ("adam", ADAM, [0.1, 0.1]),
    ("adam", {**ADAM, "schedule": "warmup", "warmup": 2}, [0.05, 0.1]),
    ("adam", {**ADAM, "weight_decay": 0.3}, [0.1, 0.1]),
    ("adamw", {**ADAM, "weight_decay": 0.3}, [0.1, 0.1]),
    ("adamw", {**ADAM, "weight_decay": 0.0}, [0.1, 0.1]),
    ("amsgrad", ADAM, [0.1, 0.1]),
    ("nadam", {**ADAM, "momentum_decay": 0.004}, [0.1, 0.1]),
]


@pytest.mark.parametrize(
    ("name", "hyper", "lrs"), TABLE, ids=[f"{n}-{i}" for i, (n, *_rest) in enumerate(TABLE)]
)
def test_two_updates_match_the_reference(
    name: str, hyper: dict[str, Any], lrs: list[float]
) -> None:
    run = RunSpec(name, {**hyper, "tol": 0.0}, (tuple(START),))
    traj = simulate(Bowl(), [run], 2, seed=0)
    expected = reference_path(name, hyper, START, bowl_grad, 2)
    np.testing.assert_allclose(traj.positions[:, 0], expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(traj.lr[:2, 0], lrs, rtol=1e-15)
    h = validate_hyper(name, hyper)
    assert [reference_lr(h, k) for k in range(2)] == pytest.approx(lrs, rel=1e-15)


@pytest.mark.parametrize("name", GRADIENT_RULES)
def test_long_paths_match_the_reference(name: str) -> None:
    """300 updates on Rosenbrock with a schedule, L2 and a stale gradient: the engine's
    chains of transforms and the plain loop agree to rounding."""
    hyper = {
        "lr": {"sgd": 2e-4, "momentum": 5e-5, "nesterov": 5e-5}.get(name, 0.01),
        "schedule": "cosine_restarts",
        "T0": 40,
        "T_mult": 2,
        "eta_min": 1e-5,
        "weight_decay": 0.01,
        "delay": 2,
    }
    run = RunSpec(name, {**hyper, "tol": 0.0}, ((-1.2, 1.0),))
    traj = simulate(Rosenbrock(), [run], 300, seed=0)
    expected = reference_path(name, hyper, np.array([-1.2, 1.0]), rosenbrock_grad, 300)
    np.testing.assert_allclose(traj.positions[:, 0], expected, rtol=1e-10, atol=1e-12)


def rosenbrock_grad(p: np.ndarray) -> np.ndarray:
    return Rosenbrock().value_and_grad(p[None, :])[1][0]


def test_easgd_updates_match_the_reference() -> None:
    hyper = {"lr": 0.05, "rho": 0.8, "workers": 2, "grad_noise": 0.0, "delay": 1}
    run = RunSpec("easgd", {**hyper, "tol": 0.0}, ((1.0, 1.0),))
    traj = simulate(Bowl(), [run], 3, seed=0)
    expected = reference_easgd(hyper, np.array([1.0, 1.0]), bowl_grad, 3)
    np.testing.assert_allclose(traj.positions, expected, rtol=1e-13)


def test_easgd_workers_spread_and_are_pulled_back() -> None:
    run = RunSpec("easgd", {"lr": 0.02, "rho": 2.0, "workers": 4, "grad_noise": 1.0}, ((3.0, 2.0),))
    traj = simulate(Bowl(), [run], 400, seed=3)
    workers = traj.positions[:, 1:]
    spread = np.linalg.norm(workers - traj.positions[:, :1], axis=2).max(axis=1)
    assert spread[0] == 0 and spread[1:].max() > 0.05  # noise spreads them
    assert spread[-1] < 1.0  # the elastic force keeps them around the centre
    assert np.linalg.norm(traj.positions[-1, 0]) < 0.5  # the centre descends


# ------------------------------------------------------------------------- torch.optim

REFERENCE = json.loads((Path(__file__).with_name("torch_reference.json")).read_text())
SURFACES = {"rosenbrock": Rosenbrock(), "beale": Beale()}


@pytest.mark.parametrize(
    "case",
    REFERENCE["cases"],
    ids=[f"{c['surface']}-{c['optimizer']}-{c['schedule']}" for c in REFERENCE["cases"]],
)
def test_matches_torch_optim(case: dict[str, Any]) -> None:
    run = RunSpec(case["optimizer"], {**case["hyper"], "tol": 0.0}, (tuple(case["start"]),))
    expected = np.array(case["positions"])
    traj = simulate(SURFACES[case["surface"]], [run], len(expected) - 1, seed=0)
    np.testing.assert_allclose(traj.positions[:, 0], expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "case",
    REFERENCE["cases"],
    ids=[f"{c['surface']}-{c['optimizer']}-{c['schedule']}" for c in REFERENCE["cases"]],
)
def test_the_reference_loop_matches_torch_optim(case: dict[str, Any]) -> None:
    surface = SURFACES[case["surface"]]
    expected = np.array(case["positions"])
    path = reference_path(
        case["optimizer"],
        case["hyper"],
        np.array(case["start"]),
        lambda p: surface.value_and_grad(p[None, :])[1][0],
        len(expected) - 1,
    )
    np.testing.assert_allclose(path, expected, rtol=1e-6, atol=1e-9)


def test_reference_covers_the_acceptance_list() -> None:
    covered = {(c["optimizer"], c["schedule"]) for c in REFERENCE["cases"]}
    for name in (
        "sgd",
        "momentum",
        "adagrad",
        "adadelta",
        "rmsprop",
        "adam",
        "adamw",
        "amsgrad",
        "nadam",
    ):
        for sched in ("constant", "step", "exponential", "cosine_restarts"):
            assert (name, sched) in covered


# ------------------------------------------------------------------------- convergence

# Hyperparameters that descend each surface (deterministic optimizers only).
BOWL = {
    "sgd": {"lr": 0.04},
    "momentum": {"lr": 0.01},
    "nesterov": {"lr": 0.01},
    "adagrad": {"lr": 1.0},
    "adadelta": {"lr": 10.0},
    "rmsprop": {"lr": 0.02, "schedule": "exponential", "gamma": 0.998},
    "adam": {"lr": 0.1},
    "adamw": {"lr": 0.1, "weight_decay": 0.01},
    "amsgrad": {"lr": 0.1},
    "nadam": {"lr": 0.1},
}
ROSENBROCK = {
    "sgd": {"lr": 1e-3},
    "momentum": {"lr": 2e-4},
    "nesterov": {"lr": 2e-4},
    "adagrad": {"lr": 0.5},
    "adadelta": {"lr": 4.0, "rho": 0.95, "schedule": "exponential", "gamma": 0.9999},
    "rmsprop": {"lr": 5e-3, "schedule": "exponential", "gamma": 0.9995},
    "adam": {"lr": 0.02},
    "adamw": {"lr": 0.02, "weight_decay": 0.0},
    "amsgrad": {"lr": 0.02},
    "nadam": {"lr": 0.02},
}


@pytest.mark.parametrize("name", list(BOWL))
def test_converges_on_the_bowl(name: str) -> None:
    traj = simulate(Bowl(), [RunSpec(name, BOWL[name], ((3.0, 2.0),))], 3000, seed=0)
    assert traj.status[0] != 2
    assert np.linalg.norm(traj.positions[-1, 0]) < 1e-2, traj.positions[-1, 0]


@pytest.mark.parametrize("name", list(ROSENBROCK))
def test_converges_on_rosenbrock(name: str) -> None:
    traj = simulate(Rosenbrock(), [RunSpec(name, ROSENBROCK[name], ((-1.2, 1.0),))], 20000, seed=0)
    assert traj.status[0] != 2
    assert np.linalg.norm(traj.positions[-1, 0] - [1.0, 1.0]) < 0.05, traj.positions[-1, 0]


def test_converged_ball_stops_and_repeats() -> None:
    traj = simulate(
        Bowl(), [RunSpec("sgd", {"lr": 0.04, "tol": 1e-6}, ((3.0, 2.0),))], 2000, seed=0
    )
    assert traj.status[0] == CONVERGED
    s = int(traj.stop_step[0])
    assert 0 < s < 2000 and traj.grad_norm[s, 0] < 1e-6 <= traj.grad_norm[s - 1, 0]
    assert (traj.positions[s:, 0] == traj.positions[s, 0]).all()
    assert (traj.loss[s:, 0] == traj.loss[s, 0]).all()


def test_registry_lists_every_optimizer_of_the_spec() -> None:
    assert set(OPTIMIZERS) >= {
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "adadelta",
        "rmsprop",
        "adam",
        "adamw",
        "amsgrad",
        "nadam",
        "noise_training",
        "noise_training_gaussian",
        "adam_noise_training",
        "easgd",
    }
