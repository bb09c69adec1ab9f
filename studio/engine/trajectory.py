"""The result of a simulation: precomputed arrays that playback and export only index into."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RUNNING = 0  # still moving at the last step, or stopped only because the steps ran out
CONVERGED = 1  # ‖∇f‖ < tol
DIVERGED = 2  # position or loss not finite, or far outside the domain
STOPPED = 3  # stopped early: the loss improved by less than tol over `patience` updates
STATUS_NAMES = ("running", "converged", "diverged", "stopped early")  # indexed by the codes


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Every ball of every run, step by step (T = number of updates, N = number of balls).

    positions [T+1, N, D] (D = 2 on a surface; a network's weight count), loss [T+1, N],
    grad_norm [T+1, N] (of the true, noise-free gradient at the drawn position), lr [T+1, N]
    (the rate of the update leaving step t; row T is what the next update would use). After
    a ball stops, its rows repeat its last finite values, so a frame is simply
    `positions[t]`.

    status (N,) int8: RUNNING, CONVERGED, DIVERGED or STOPPED (STATUS_NAMES has the words).
    stop_step (N,): the last step with meaningful values (T for a ball that never stopped);
    a diverged ball went bad at stop_step + 1. ball_run (N,): index of the ball's run in the
    `runs` passed to `simulate`; run_slices[i]: the balls of runs[i] (empty for a disabled run).
    The arrays are read-only.
    """

    positions: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    status: np.ndarray
    stop_step: np.ndarray
    ball_run: np.ndarray
    ball_label: tuple[str, ...]
    run_slices: tuple[slice, ...]

    def __post_init__(self) -> None:
        for name in ("positions", "loss", "grad_norm", "lr", "status", "stop_step", "ball_run"):
            getattr(self, name).setflags(write=False)

    @property
    def steps(self) -> int:
        """T, the number of updates."""
        return self.positions.shape[0] - 1

    @property
    def n_balls(self) -> int:
        return self.positions.shape[1]

    @property
    def dim(self) -> int:
        """D, the number of parameters of each ball."""
        return self.positions.shape[2]
