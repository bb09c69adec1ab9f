"""Acceptance: the sigmoid-neuron article's runs, each from one command line.

The article ("gradient descent variants in NumPy on a sigmoid neuron") fits w, b of
σ(wx + b) to two points, X = (0.5, 2.5), Y = (0.2, 0.9), with the squared error
½(σ(wx + b) − y)² summed over the points, starting at (w, b) = (−2, −2), η = 1, γ = 0.9,
1,000 epochs. Its code, typed out again below independently of the engine:

- GD: dw, db summed over the points, then `w -= eta * dw / X.shape[0]`: the mean gradient.
  The studio's default (mean) reproduces it with lr 1 as written.
- Momentum and NAG: `v = gamma * v + eta * dw` with dw the *sum* over the points (NAG takes
  the gradient at w − γv): `--reduction sum` reproduces them with lr 1 as written (the mean
  would need lr 2).
- MiniBatch with mini_batch_size 1 (the article's stochastic gradient descent): the points
  visited in order, one update per point, `w -= eta * dw / mini_batch_size`:
  `batch_size=1,batch_order=in_order`.

The studio's trajectories must equal the transcriptions to 1e-12. `tol=0` keeps the studio
from stopping a ball whose gradient has become tiny (the article runs every epoch).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

X = np.asarray([0.5, 2.5])
Y = np.asarray([0.2, 0.9])
W0, B0, ETA, GAMMA, EPOCHS = -2.0, -2.0, 1.0, 0.9, 1000
BASE = ["trace", "--surface", "sigmoid_neuron", "--start", "-2,-2"]
GD = [*BASE, "--optimizer", "sgd:lr=1,tol=0", "--steps", "1000"]
SUMMED = [
    *BASE,
    "--reduction",
    "sum",
    "--optimizer",
    "momentum:lr=1,momentum=0.9,tol=0",
    "--optimizer",
    "nesterov:lr=1,momentum=0.9,tol=0",
    "--steps",
    "1000",
]
STOCHASTIC = [
    *BASE,
    "--optimizer",
    "sgd:lr=1,tol=0,batch_size=1,batch_order=in_order",
    "--steps",
    "2000",
]


# ------------------------------------------------------------------ the article's code


class SN:
    """The article's class SN, its GD, MiniBatch, Momentum and NAG branches as written."""

    def __init__(self, w_init: float, b_init: float, algo: str) -> None:
        self.w, self.b, self.algo = w_init, b_init, algo
        self.w_h: list[float] = []
        self.b_h: list[float] = []
        self.e_h: list[float] = []

    def sigmoid(self, x: float, w: float | None = None, b: float | None = None) -> float:
        w = self.w if w is None else w
        b = self.b if b is None else b
        return 1.0 / (1.0 + np.exp(-(w * x + b)))

    def error(self, X: np.ndarray, Y: np.ndarray) -> float:
        err = 0.0
        for x, y in zip(X, Y, strict=True):
            err += 0.5 * (self.sigmoid(x) - y) ** 2
        return err

    def grad_w(self, x: float, y: float, w: float | None = None, b: float | None = None) -> float:
        y_pred = self.sigmoid(x, w, b)
        return (y_pred - y) * y_pred * (1 - y_pred) * x

    def grad_b(self, x: float, y: float, w: float | None = None, b: float | None = None) -> float:
        y_pred = self.sigmoid(x, w, b)
        return (y_pred - y) * y_pred * (1 - y_pred)

    def fit(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        epochs: int,
        eta: float,
        gamma: float = 0.9,
        mini_batch_size: int = 1,
    ) -> None:
        self.X, self.Y = X, Y
        if self.algo == "GD":
            for _ in range(epochs):
                dw, db = 0.0, 0.0
                for x, y in zip(X, Y, strict=True):
                    dw += self.grad_w(x, y)
                    db += self.grad_b(x, y)
                self.w -= eta * dw / X.shape[0]
                self.b -= eta * db / X.shape[0]
                self.append_log()
        elif self.algo == "MiniBatch":
            for _ in range(epochs):
                dw, db = 0.0, 0.0
                points_seen = 0
                for x, y in zip(X, Y, strict=True):
                    dw += self.grad_w(x, y)
                    db += self.grad_b(x, y)
                    points_seen += 1  # noqa: SIM113 (the article's own counter)
                    if points_seen % mini_batch_size == 0:
                        self.w -= eta * dw / mini_batch_size
                        self.b -= eta * db / mini_batch_size
                        self.append_log()
                        dw, db = 0.0, 0.0
        elif self.algo == "Momentum":
            v_w, v_b = 0.0, 0.0
            for _ in range(epochs):
                dw, db = 0.0, 0.0
                for x, y in zip(X, Y, strict=True):
                    dw += self.grad_w(x, y)
                    db += self.grad_b(x, y)
                v_w = gamma * v_w + eta * dw
                v_b = gamma * v_b + eta * db
                self.w = self.w - v_w
                self.b = self.b - v_b
                self.append_log()
        elif self.algo == "NAG":
            v_w, v_b = 0.0, 0.0
            for _ in range(epochs):
                dw, db = 0.0, 0.0
                v_w = gamma * v_w
                v_b = gamma * v_b
                for x, y in zip(X, Y, strict=True):
                    dw += self.grad_w(x, y, self.w - v_w, self.b - v_b)
                    db += self.grad_b(x, y, self.w - v_w, self.b - v_b)
                v_w = v_w + eta * dw
                v_b = v_b + eta * db
                self.w = self.w - v_w
                self.b = self.b - v_b
                self.append_log()

    def append_log(self) -> None:
        self.w_h.append(self.w)
        self.b_h.append(self.b)
        self.e_h.append(self.error(self.X, self.Y))


def article(algo: str) -> tuple[np.ndarray, np.ndarray]:
    """The (w, b) path, start first, and the summed error after each update."""
    sn = SN(W0, B0, algo)
    sn.fit(X, Y, epochs=EPOCHS, eta=ETA, gamma=GAMMA, mini_batch_size=1)
    path = np.column_stack([[W0, *sn.w_h], [B0, *sn.b_h]])
    return path, np.array(sn.e_h)


# ------------------------------------------------------------------ the studio's answer


def trace(args: list[str], out: Path) -> dict[str, np.ndarray]:
    done = subprocess.run(
        [sys.executable, "-m", "studio", *args, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    with np.load(out) as npz:
        return {k: npz[k] for k in npz.files}


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, np.ndarray]]:
    tmp = Path(tmp_path_factory.mktemp("sigmoid"))
    return {
        name: trace(args, tmp / f"{name}.npz")
        for name, args in (("gd", GD), ("summed", SUMMED), ("stochastic", STOCHASTIC))
    }


def test_full_batch_gd_is_the_mean_with_lr_as_written(traced: dict) -> None:
    path, errors = article("GD")
    got = traced["gd"]
    np.testing.assert_allclose(got["positions"][:, 0], path, rtol=0, atol=1e-12)
    # The studio's f is the mean of the rows here; the article logs their sum.
    np.testing.assert_allclose(2 * got["loss"][1:, 0], errors, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("ball", "algo"), [(0, "Momentum"), (1, "NAG")])
def test_momentum_and_nag_sum_the_rows_with_lr_as_written(
    traced: dict, ball: int, algo: str
) -> None:
    path, errors = article(algo)
    got = traced["summed"]
    assert got["ball_optimizer"].tolist() == ["momentum", "nesterov"]
    np.testing.assert_allclose(got["positions"][:, ball], path, rtol=0, atol=1e-12)
    # With --reduction sum the loss is the article's summed error itself.
    np.testing.assert_allclose(got["loss"][1:, ball], errors, rtol=1e-12, atol=1e-15)


def test_stochastic_variant_visits_the_rows_in_order(traced: dict) -> None:
    path, _errors = article("MiniBatch")
    got = traced["stochastic"]
    assert got["positions"].shape == (2 * EPOCHS + 1, 1, 2)
    np.testing.assert_allclose(got["positions"][:, 0], path, rtol=0, atol=1e-12)


def test_without_the_conventions_the_runs_differ(tmp_path: Path) -> None:
    """The options are what makes them agree: the mean, or reshuffled rows, move elsewhere."""
    mean = trace([a for a in SUMMED if a not in ("--reduction", "sum")], tmp_path / "m.npz")
    path, _ = article("Momentum")
    assert np.abs(mean["positions"][:, 0] - path).max() > 1e-3
    shuffled = trace(
        [a.replace(",batch_order=in_order", "") for a in STOCHASTIC], tmp_path / "s.npz"
    )
    path, _ = article("MiniBatch")
    assert np.abs(shuffled["positions"][:, 0] - path).max() > 1e-6
