"""Every optimizer and schedule against hand-written formulas, torch.optim, and convergence."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_surfaces import Beale, Bowl, Rosenbrock

from studio.engine import CONVERGED, OPTIMIZERS, simulate
from studio.scene import RunSpec

START = np.array([1.5, -0.7])


def bowl_grad(p: np.ndarray) -> np.ndarray:
    return np.array([2 * p[0], 20 * p[1]])


# Each reference takes θ0 and returns [θ1, θ2] after two updates on the bowl, written out
# plainly from ALGORITHMS.md (scalar learning rates per update given by `lrs`).
def ref_sgd(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    p, out = START.copy(), []
    for lr in lrs:
        g = bowl_grad(p) + h.get("weight_decay", 0.0) * p
        p = p - lr * g
        out.append(p)
    return out


def ref_momentum(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    p, b, out = START.copy(), np.zeros(2), []
    for lr in lrs:
        b = h["momentum"] * b + bowl_grad(p)
        p = p - lr * b
        out.append(p)
    return out


def ref_nesterov(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    p, v, out = START.copy(), np.zeros(2), []
    mu = h["momentum"]
    for lr in lrs:
        v = mu * v + lr * bowl_grad(p - mu * v)
        p = p - v
        out.append(p)
    return out


def ref_adagrad(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    p, G, out = START.copy(), np.zeros(2), []
    for lr in lrs:
        g = bowl_grad(p)
        G = G + g * g
        p = p - lr * g / (np.sqrt(G) + h["eps"])
        out.append(p)
    return out


def ref_adadelta(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    p, E, D, out = START.copy(), np.zeros(2), np.zeros(2), []
    rho, eps = h["rho"], h["eps"]
    for lr in lrs:
        g = bowl_grad(p)
        E = rho * E + (1 - rho) * g * g
        delta = np.sqrt(D + eps) / np.sqrt(E + eps) * g
        D = rho * D + (1 - rho) * delta * delta
        p = p - lr * delta
        out.append(p)
    return out


def ref_rmsprop(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    p, E, out = START.copy(), np.zeros(2), []
    for lr in lrs:
        g = bowl_grad(p)
        E = h["alpha"] * E + (1 - h["alpha"]) * g * g
        p = p - lr * g / (np.sqrt(E) + h["eps"])
        out.append(p)
    return out


def _adam(h: dict[str, Any], lrs: list[float], decoupled: float = 0.0,
          ams: bool = False) -> list[np.ndarray]:
    p, m, v, vmax, out = START.copy(), np.zeros(2), np.zeros(2), np.zeros(2), []
    b1, b2, eps = h["beta1"], h["beta2"], h["eps"]
    for t, lr in enumerate(lrs, start=1):
        g = bowl_grad(p)
        p = p * (1 - lr * decoupled)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if ams:
            vmax = np.maximum(vmax, v)
            p = p - lr / (1 - b1**t) * m / (np.sqrt(vmax) / math.sqrt(1 - b2**t) + eps)
        else:
            mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
            p = p - lr * mhat / (np.sqrt(vhat) + eps)
        out.append(p)
    return out


def ref_adam(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    return _adam(h, lrs)


def ref_adamw(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    return _adam(h, lrs, decoupled=h["weight_decay"])


def ref_amsgrad(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    return _adam(h, lrs, ams=True)


def ref_nadam(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    p, m, v, prod, out = START.copy(), np.zeros(2), np.zeros(2), 1.0, []
    b1, b2, eps, psi = h["beta1"], h["beta2"], h["eps"], h["momentum_decay"]
    for t, lr in enumerate(lrs, start=1):
        g = bowl_grad(p)
        mu_t = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_n = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu_t
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        d = np.sqrt(v / (1 - b2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - prod) * g / d - lr * mu_n / (1 - prod * mu_n) * m / d
        out.append(p)
    return out


def ref_delayed_sgd(h: dict[str, Any], lrs: list[float]) -> list[np.ndarray]:
    g0 = bowl_grad(START)  # τ = 1: both updates use g(θ0) (no older gradient yet)
    p1 = START - lrs[0] * g0
    return [p1, p1 - lrs[1] * g0]


ADAM = {"lr": 0.1, "beta1": 0.8, "beta2": 0.95, "eps": 1e-3}
COS = {"schedule": "cosine_restarts", "T0": 2, "T_mult": 1, "eta_min": 0.01}
# (optimizer, hyperparameters, reference, learning rates of updates 0 and 1)
TABLE: list[tuple[str, dict[str, Any], Callable[..., list[np.ndarray]], list[float]]] = [
    ("sgd", {"lr": 0.03}, ref_sgd, [0.03, 0.03]),
    ("sgd", {"lr": 0.03, "weight_decay": 0.5}, ref_sgd, [0.03, 0.03]),
    ("sgd", {"lr": 0.03, "schedule": "step", "step_size": 1, "gamma": 0.5}, ref_sgd,
     [0.03, 0.015]),
    ("sgd", {"lr": 0.03, "schedule": "exponential", "gamma": 0.9}, ref_sgd, [0.03, 0.027]),
    ("sgd", {"lr": 0.03, **COS}, ref_sgd, [0.03, 0.01 + 0.02 * 0.5]),
    ("sgd", {"lr": 0.03, "schedule": "warmup", "warmup": 2}, ref_sgd, [0.015, 0.03]),
    ("sgd", {"lr": 0.03, "delay": 1}, ref_delayed_sgd, [0.03, 0.03]),
    ("momentum", {"lr": 0.02, "momentum": 0.7}, ref_momentum, [0.02, 0.02]),
    ("momentum", {"lr": 0.02, "momentum": 0.7, "schedule": "step", "step_size": 1,
                  "gamma": 0.5}, ref_momentum, [0.02, 0.01]),
    ("nesterov", {"lr": 0.02, "momentum": 0.7}, ref_nesterov, [0.02, 0.02]),
    ("nesterov", {"lr": 0.02, "momentum": 0.7, "schedule": "exponential", "gamma": 0.5},
     ref_nesterov, [0.02, 0.01]),
    ("adagrad", {"lr": 0.3, "eps": 1e-3}, ref_adagrad, [0.3, 0.3]),
    ("adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-3}, ref_adadelta, [0.5, 0.5]),
    ("rmsprop", {"lr": 0.05, "alpha": 0.8, "eps": 1e-3}, ref_rmsprop, [0.05, 0.05]),
    ("rmsprop", {"lr": 0.05, "alpha": 0.8, "eps": 1e-3, **COS}, ref_rmsprop,
     [0.05, 0.01 + 0.04 * 0.5]),
    ("adam", ADAM, ref_adam, [0.1, 0.1]),
    ("adam", {**ADAM, "schedule": "warmup", "warmup": 2}, ref_adam, [0.05, 0.1]),
    ("adamw", {**ADAM, "weight_decay": 0.3}, ref_adamw, [0.1, 0.1]),
    ("amsgrad", ADAM, ref_amsgrad, [0.1, 0.1]),
    ("nadam", {**ADAM, "momentum_decay": 0.004}, ref_nadam, [0.1, 0.1]),
]


@pytest.mark.parametrize(("name", "hyper", "ref", "lrs"), TABLE,
                         ids=[f"{n}-{i}" for i, (n, *_rest) in enumerate(TABLE)])
def test_two_updates_match_the_formula(name: str, hyper: dict[str, Any],
                                       ref: Callable[..., list[np.ndarray]],
                                       lrs: list[float]) -> None:
    run = RunSpec(name, {**hyper, "tol": 0.0}, (tuple(START),))
    traj = simulate(Bowl(), [run], 2, seed=0)
    expected = ref(hyper, lrs)
    np.testing.assert_allclose(traj.positions[1:, 0], expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(traj.lr[:2, 0], lrs, rtol=1e-15)


def test_easgd_two_updates_match_the_formula() -> None:
    lr, rho = 0.05, 0.8
    run = RunSpec("easgd", {"lr": lr, "rho": rho, "workers": 2, "grad_noise": 0.0,
                            "delay": 1, "tol": 0.0}, ((1.0, 1.0),))
    # The stale gradient (delay 1) makes the two workers differ from the centre by step 2
    # only through the elastic term; so check the rule with a plain hand loop instead.
    traj = simulate(Bowl(), [run], 3, seed=0)
    c = np.array([1.0, 1.0])
    w = np.array([[1.0, 1.0], [1.0, 1.0]])
    history = [np.array([bowl_grad(x) for x in w])]
    for t in range(3):
        g = history[max(0, t - 1)]
        diff = w - c
        w, c = w - lr * (g + rho * diff), c + lr * rho * diff.sum(axis=0)
        history.append(np.array([bowl_grad(x) for x in w]))
        np.testing.assert_allclose(traj.positions[t + 1, 0], c, rtol=1e-13)
        np.testing.assert_allclose(traj.positions[t + 1, 1:], w, rtol=1e-13)


def test_easgd_workers_spread_and_are_pulled_back() -> None:
    run = RunSpec("easgd", {"lr": 0.02, "rho": 2.0, "workers": 4, "grad_noise": 1.0},
                  ((3.0, 2.0),))
    traj = simulate(Bowl(), [run], 400, seed=3)
    workers = traj.positions[:, 1:]
    spread = np.linalg.norm(workers - traj.positions[:, :1], axis=2).max(axis=1)
    assert spread[0] == 0 and spread[1:].max() > 0.05  # noise spreads them
    assert spread[-1] < 1.0  # the elastic force keeps them around the centre
    assert np.linalg.norm(traj.positions[-1, 0]) < 0.5  # the centre descends


# ------------------------------------------------------------------------- torch.optim

REFERENCE = json.loads((Path(__file__).with_name("torch_reference.json")).read_text())
SURFACES = {"rosenbrock": Rosenbrock(), "beale": Beale()}


@pytest.mark.parametrize("case", REFERENCE["cases"],
                         ids=[f"{c['surface']}-{c['optimizer']}-{c['schedule']}"
                              for c in REFERENCE["cases"]])
def test_matches_torch_optim(case: dict[str, Any]) -> None:
    run = RunSpec(case["optimizer"], {**case["hyper"], "tol": 0.0}, (tuple(case["start"]),))
    expected = np.array(case["positions"])
    traj = simulate(SURFACES[case["surface"]], [run], len(expected) - 1, seed=0)
    np.testing.assert_allclose(traj.positions[:, 0], expected, rtol=1e-6, atol=1e-9)


def test_reference_covers_the_acceptance_list() -> None:
    covered = {(c["optimizer"], c["schedule"]) for c in REFERENCE["cases"]}
    for name in ("sgd", "momentum", "adagrad", "adadelta", "rmsprop", "adam", "adamw",
                 "amsgrad", "nadam"):
        for sched in ("constant", "step", "exponential", "cosine_restarts"):
            assert (name, sched) in covered


# ------------------------------------------------------------------------- convergence

# Hyperparameters that descend each surface (deterministic optimizers only).
BOWL = {
    "sgd": {"lr": 0.04}, "momentum": {"lr": 0.01}, "nesterov": {"lr": 0.01},
    "adagrad": {"lr": 1.0}, "adadelta": {"lr": 10.0},
    "rmsprop": {"lr": 0.02, "schedule": "exponential", "gamma": 0.998},
    "adam": {"lr": 0.1}, "adamw": {"lr": 0.1, "weight_decay": 0.01}, "amsgrad": {"lr": 0.1},
    "nadam": {"lr": 0.1},
}
ROSENBROCK = {
    "sgd": {"lr": 1e-3}, "momentum": {"lr": 2e-4}, "nesterov": {"lr": 2e-4},
    "adagrad": {"lr": 0.5},
    "adadelta": {"lr": 4.0, "rho": 0.95, "schedule": "exponential", "gamma": 0.9999},
    "rmsprop": {"lr": 5e-3, "schedule": "exponential", "gamma": 0.9995},
    "adam": {"lr": 0.02}, "adamw": {"lr": 0.02, "weight_decay": 0.0},
    "amsgrad": {"lr": 0.02}, "nadam": {"lr": 0.02},
}


@pytest.mark.parametrize("name", list(BOWL))
def test_converges_on_the_bowl(name: str) -> None:
    traj = simulate(Bowl(), [RunSpec(name, BOWL[name], ((3.0, 2.0),))], 3000, seed=0)
    assert traj.status[0] != 2
    assert np.linalg.norm(traj.positions[-1, 0]) < 1e-2, traj.positions[-1, 0]


@pytest.mark.parametrize("name", list(ROSENBROCK))
def test_converges_on_rosenbrock(name: str) -> None:
    traj = simulate(Rosenbrock(), [RunSpec(name, ROSENBROCK[name], ((-1.2, 1.0),))], 20000,
                    seed=0)
    assert traj.status[0] != 2
    assert np.linalg.norm(traj.positions[-1, 0] - [1.0, 1.0]) < 0.05, traj.positions[-1, 0]


def test_converged_ball_stops_and_repeats() -> None:
    traj = simulate(Bowl(), [RunSpec("sgd", {"lr": 0.04, "tol": 1e-6}, ((3.0, 2.0),))], 2000,
                    seed=0)
    assert traj.status[0] == CONVERGED
    s = int(traj.stop_step[0])
    assert 0 < s < 2000 and traj.grad_norm[s, 0] < 1e-6 <= traj.grad_norm[s - 1, 0]
    assert (traj.positions[s:, 0] == traj.positions[s, 0]).all()
    assert (traj.loss[s:, 0] == traj.loss[s, 0]).all()


def test_registry_lists_every_optimizer_of_the_spec() -> None:
    assert set(OPTIMIZERS) >= {"sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop",
                               "adam", "adamw", "amsgrad", "nadam", "noise_training",
                               "noise_training_gaussian", "adam_noise_training", "easgd"}
