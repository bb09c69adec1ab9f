"""Acceptance: the gradient-descent comparison article's race, from one command line.

The article ("Comparative performance of deep learning optimization algorithms using
NumPy") races five optimizers on f(x, y) = 0.1x² + 2y² with a fixed learning rate of 0.4
for 20 iterations, Adam starting far out at (−6, −6). Its update rules are Ruder's: momentum
v ← γv + ηg, θ ← θ − v; Adagrad and RMSprop divide by the root of the accumulated squares
plus ε; Adam with bias-corrected moments. They are typed out again below, independently of
the engine, and the trajectories the studio computes from the one command line must equal
them to 1e-12. The article shows its other start only in a figure; (−4, −4) stands for it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

LR, STEPS = 0.4, 20
COMMAND = [
    "trace",
    "--surface",
    "0.1*x^2 + 2*y^2",
    "--domain",
    "-7,7,-7,7",
    "--optimizer",
    "sgd:lr=0.4",
    "--optimizer",
    "momentum:lr=0.4,momentum=0.9",
    "--optimizer",
    "adagrad:lr=0.4,eps=1e-8",
    "--optimizer",
    "rmsprop:lr=0.4,alpha=0.9,eps=1e-8",
    "--optimizer",
    "adam:lr=0.4,beta1=0.9,beta2=0.999,eps=1e-8@-6,-6",
    "--start",
    "-4,-4",
    "--steps",
    "20",
]


# ------------------------------------------------------------------ the article's code


def f(x: float, y: float) -> float:
    return 0.1 * x**2 + 2 * y**2


def grad(x: float, y: float) -> np.ndarray:
    return np.array([0.2 * x, 4 * y])


def gradient_descent(x: float, y: float, lr: float, n: int) -> list[np.ndarray]:
    w = np.array([x, y])
    path = [w]
    for _ in range(n):
        w = w - lr * grad(*w)
        path.append(w)
    return path


def momentum(x: float, y: float, lr: float, n: int, gamma: float = 0.9) -> list[np.ndarray]:
    w, v = np.array([x, y]), np.zeros(2)
    path = [w]
    for _ in range(n):
        v = gamma * v + lr * grad(*w)
        w = w - v
        path.append(w)
    return path


def adagrad(x: float, y: float, lr: float, n: int, eps: float = 1e-8) -> list[np.ndarray]:
    w, G = np.array([x, y]), np.zeros(2)
    path = [w]
    for _ in range(n):
        g = grad(*w)
        G = G + g**2
        w = w - lr / (np.sqrt(G) + eps) * g
        path.append(w)
    return path


def rmsprop(
    x: float, y: float, lr: float, n: int, gamma: float = 0.9, eps: float = 1e-8
) -> list[np.ndarray]:
    w, E = np.array([x, y]), np.zeros(2)
    path = [w]
    for _ in range(n):
        g = grad(*w)
        E = gamma * E + (1 - gamma) * g**2
        w = w - lr / (np.sqrt(E) + eps) * g
        path.append(w)
    return path


def adam(
    x: float,
    y: float,
    lr: float,
    n: int,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> list[np.ndarray]:
    w, m, v = np.array([x, y]), np.zeros(2), np.zeros(2)
    path = [w]
    for t in range(1, n + 1):
        g = grad(*w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(w)
    return path


ARTICLE: list[tuple[str, Callable[..., list[np.ndarray]], tuple[float, float]]] = [
    ("sgd", gradient_descent, (-4.0, -4.0)),
    ("momentum", momentum, (-4.0, -4.0)),
    ("adagrad", adagrad, (-4.0, -4.0)),
    ("rmsprop", rmsprop, (-4.0, -4.0)),
    ("adam", adam, (-6.0, -6.0)),
]

# ------------------------------------------------------------------ the studio's answer


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    out = Path(tmp_path_factory.mktemp("article")) / "race.npz"
    done = subprocess.run(
        [sys.executable, "-m", "studio", *COMMAND, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    with np.load(out) as npz:
        return {k: npz[k] for k in npz.files}


def test_one_command_line_gives_the_five_runs_of_the_article(traced: dict[str, np.ndarray]) -> None:
    positions = traced["positions"]
    assert positions.shape == (STEPS + 1, len(ARTICLE), 2)
    assert [tuple(p) for p in positions[0]] == [start for _, _, start in ARTICLE]


@pytest.mark.parametrize("ball", range(len(ARTICLE)), ids=[name for name, _, _ in ARTICLE])
def test_trajectories_equal_the_articles_code(traced: dict[str, np.ndarray], ball: int) -> None:
    _name, rule, (x0, y0) = ARTICLE[ball]
    expected = np.array(rule(x0, y0, LR, STEPS))
    np.testing.assert_allclose(traced["positions"][:, ball], expected, rtol=0, atol=1e-12)
    losses = np.array([f(x, y) for x, y in expected])
    np.testing.assert_allclose(traced["loss"][:, ball], losses, rtol=1e-12, atol=1e-12)
