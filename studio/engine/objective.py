"""What the engine needs of a loss: D parameters, every ball evaluated at once.

A 2-D `studio.surface.Surface` is an `Objective` with D = 2 and a domain; a network task
(D = its number of weights) is another. `simulate` reads nothing else from either.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Objective(Protocol):
    """A loss f(θ), θ ∈ ℝᴰ, for N balls at once.

    `value_and_grad(params)`: params float64 (N, D) → (f (N,), ∇f (N, D)) over the whole
    objective (every data row). Non-finite values are allowed (the ball is then marked
    diverged); the method must neither write into `params` nor keep it (the engine reuses
    the array). A ball's values must depend on its own row alone, to the last bit: a run
    simulated alone equals the run simulated beside others (`RunCache` joins such parts).
    A BLAS product over the balls (`params @ W`) can round a row differently with N;
    `np.einsum` or a stacked `np.matmul` per ball ((N, 1, D) @ (N, D, K)) does not.

    `n_rows`: how many data rows mini-batches are drawn from (0: no data, and a run with
    `batch_size` is refused). `grad_rows(params, rows)`: rows int (N, B), each ball's mean
    gradient over its own B rows → (N, D); called only when 0 < batch_size < n_rows.

    Early stopping on a validation loss (`stop_on=val_loss`) uses, when present,
    `validation_loss(params)` → (N,) (a network: its own validation split), else
    `validation_split()` → (training rows, validation rows) with `value_grad_rows(params,
    rows)` → (f (N,), ∇f (N, D)) over each ball's rows (a data-fit surface).
    """

    @property
    def dim(self) -> int: ...

    @property
    def n_rows(self) -> int: ...

    def value_and_grad(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def grad_rows(self, params: np.ndarray, rows: np.ndarray) -> np.ndarray: ...


class SurfaceLike(Objective, Protocol):
    """A 2-D objective on a domain (xmin, xmax, ymin, ymax): start grids and the bound past
    which a ball has diverged come from it."""

    @property
    def domain(self) -> tuple[float, float, float, float]: ...
