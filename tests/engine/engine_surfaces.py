"""Small hand-written surfaces for the engine tests (the engine only needs the protocol)."""

from __future__ import annotations

import numpy as np


class Bowl:
    """f = x² + 10y² on [−5, 5]² (docs/algorithms.md#presets)."""

    domain = (-5.0, 5.0, -5.0, 5.0)
    dim = 2
    n_rows = 0

    def value(self, xy: np.ndarray) -> np.ndarray:
        return xy[:, 0] ** 2 + 10 * xy[:, 1] ** 2

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = xy[:, 0], xy[:, 1]
        return x * x + 10 * y * y, np.column_stack([2 * x, 20 * y])


class Rosenbrock:
    """f = (1 − x)² + 100(y − x²)² on [−2, 2] × [−1, 3]."""

    domain = (-2.0, 2.0, -1.0, 3.0)
    dim = 2
    n_rows = 0

    def value(self, xy: np.ndarray) -> np.ndarray:
        return self.value_and_grad(xy)[0]

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = xy[:, 0], xy[:, 1]
        a = 1 - x
        b = y - x * x
        g = np.empty_like(xy)
        g[:, 0] = -2 * a - 400 * x * b
        g[:, 1] = 200 * b
        return a * a + 100 * b * b, g


class Beale:
    """(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)² on [−4.5, 4.5]²."""

    domain = (-4.5, 4.5, -4.5, 4.5)
    dim = 2
    n_rows = 0

    def value(self, xy: np.ndarray) -> np.ndarray:
        return self.value_and_grad(xy)[0]

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = xy[:, 0], xy[:, 1]
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y**2
        t3 = 2.625 - x + x * y**3
        gx = 2 * t1 * (y - 1) + 2 * t2 * (y**2 - 1) + 2 * t3 * (y**3 - 1)
        gy = 2 * t1 * x + 2 * t2 * 2 * x * y + 2 * t3 * 3 * x * y**2
        return t1**2 + t2**2 + t3**2, np.column_stack([gx, gy])


class Flat:
    """f = 0 everywhere: any motion is noise."""

    domain = (-5.0, 5.0, -5.0, 5.0)
    dim = 2
    n_rows = 0

    def value(self, xy: np.ndarray) -> np.ndarray:
        return np.zeros(len(xy))

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(len(xy)), np.zeros_like(xy)


class Cliff:
    """f = √x + y² on [0, 4] × [−2, 2]: a ball that overshoots x = 0 gets a NaN loss."""

    domain = (0.0, 4.0, -2.0, 2.0)
    dim = 2
    n_rows = 0

    def value(self, xy: np.ndarray) -> np.ndarray:
        return np.sqrt(xy[:, 0]) + xy[:, 1] ** 2

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = np.sqrt(xy[:, 0])
        return r + xy[:, 1] ** 2, np.column_stack([0.5 / r, 2 * xy[:, 1]])


class SigmoidNeuron:
    """Seed 002: mean over rows of ½(σ(w·u + b) − v)², θ = (w, b) = (x, y)."""

    domain = (-7.0, 5.0, -7.0, 5.0)
    dim = 2

    def __init__(self) -> None:
        self.u = np.array([3.5, 0.35, 3.2, -2.0, 1.5, -0.5])
        self.v = np.array([0.5, 0.5, 0.5, 0.5, 0.1, 0.3])
        self.n_rows = len(self.u)

    def _terms(self, xy: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
        w, b = xy[:, 0:1], xy[:, 1:2]
        s = 1 / (1 + np.exp(-(w * u + b)))
        r = s - v
        d = r * s * (1 - s)
        return r, d, u

    def value(self, xy: np.ndarray) -> np.ndarray:
        return self.value_and_grad(xy)[0]

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, d, u = self._terms(xy, self.u[None, :], self.v[None, :])
        f = 0.5 * (r * r).mean(axis=1)
        return f, np.column_stack([(d * u).mean(axis=1), d.mean(axis=1)])

    def grad_rows(self, xy: np.ndarray, rows: np.ndarray) -> np.ndarray:
        _r, d, u = self._terms(xy, self.u[rows], self.v[rows])
        return np.column_stack([(d * u).mean(axis=1), d.mean(axis=1)])
