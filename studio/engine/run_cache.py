"""Re-simulate only what an edit changed: each run's part of the trajectory, kept.

The GUI re-simulates on every edit, and most edits touch one run (its learning rate, its
start point) or none that matters to the engine (a colour). A run's balls depend only on
the objective, the number of steps, the seed, the run itself and its index (the key of its
random numbers), so `RunCache` keeps each run's columns of the last trajectory, simulates
only the runs that changed (together, in one call) and joins the parts. The result is the
trajectory `simulate` gives for the whole scene, bit for bit; only faster after a small edit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from studio.engine.objective import Objective
from studio.engine.simulate import (
    Checkpoint,
    SimulationError,
    check_size,
    simulate,
    trajectory_bytes,
)
from studio.engine.trajectory import Trajectory
from studio.scene import RunSpec

# Parts are kept while the scene's trajectory is at most this size (held at most twice:
# the parts and the joined trajectory): a start grid of thousands of balls, or a large
# network, is re-simulated whole instead.
CACHE_BALL_STEPS = 2_000_000  # ball-steps on a 2-D objective
CACHE_BYTES = trajectory_bytes(CACHE_BALL_STEPS, 0)


def _run_key(index: int, run: RunSpec, start: np.ndarray | None) -> tuple[object, ...]:
    """Everything about a run that its balls depend on (not its colour)."""
    given = None if start is None else (np.shape(start), np.asarray(start, float).tobytes())
    return (
        index,
        run.optimizer,
        tuple(sorted(run.hyper.items())),
        tuple(tuple(p) for p in run.starts),
        run.grid,
        run.label,
        given,
    )


class RunCache:
    """`simulate` with memory: `cache.simulate(objective, runs, steps, seed[, starts])`.

    Not thread-safe: one cache per simulating thread (the GUI has one worker).
    """

    def __init__(self) -> None:
        self._context: tuple[object, int, int] | None = None
        self._parts: dict[tuple[object, ...], Trajectory] = {}

    def simulate(
        self,
        objective: Objective,
        runs: Sequence[RunSpec],
        steps: int,
        seed: int,
        starts: Sequence[np.ndarray | None] | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> Trajectory:
        context = (objective, steps, seed)
        if (
            self._context is None
            or self._context[0] is not objective
            or self._context[1:] != context[1:]
        ):
            self._parts.clear()
        self._context = context
        enabled = [i for i, run in enumerate(runs) if run.enabled]
        keys = {i: _run_key(i, runs[i], None if starts is None else starts[i]) for i in enabled}
        missing = [i for i in enabled if keys[i] not in self._parts]
        if len(missing) == len(enabled):  # nothing to reuse: the plain call
            trajectory = simulate(
                objective, runs, steps, seed, starts=starts, checkpoint=checkpoint
            )
            self._keep(
                keys,
                {i: (trajectory, trajectory.run_slices[i]) for i in enabled},
                steps,
                objective.dim,
            )
            return trajectory
        fresh = simulate(
            objective,
            [runs[i] for i in missing],
            steps,
            seed,
            rng_keys=missing,
            starts=None if starts is None else [starts[i] for i in missing],
            checkpoint=checkpoint,
        )
        parts = self._keep(
            keys,
            {i: (fresh, fresh.run_slices[j]) for j, i in enumerate(missing)},
            steps,
            objective.dim,
        )
        return _join(
            [parts[keys[i]] if i in keys else None for i in range(len(runs))], steps, objective.dim
        )

    def _keep(
        self,
        keys: dict[int, tuple[object, ...]],
        new: dict[int, tuple[Trajectory, slice]],
        steps: int,
        dim: int,
    ) -> dict[tuple, Trajectory]:
        """The scene's parts, old and new; kept for the next call if the scene is small
        enough (parts of runs the scene no longer has are dropped)."""
        parts = {keys[i]: self._parts[keys[i]] for i in keys if keys[i] in self._parts}
        for i, (tr, sl) in new.items():
            n = sl.stop - sl.start
            parts[keys[i]] = Trajectory(  # run i's balls, as a trajectory of one run
                positions=tr.positions[:, sl],
                loss=tr.loss[:, sl],
                grad_norm=tr.grad_norm[:, sl],
                lr=tr.lr[:, sl],
                status=tr.status[sl],
                stop_step=tr.stop_step[sl],
                ball_run=np.zeros(n, np.int64),
                ball_label=tr.ball_label[sl],
                run_slices=(slice(0, n),),
            )
        total = sum(part.n_balls for part in parts.values())
        try:
            check_size(total, steps, dim)
        except SimulationError:
            self._parts.clear()
            raise
        self._parts = parts if trajectory_bytes(total, steps, dim) <= CACHE_BYTES else {}
        return parts


def _join(parts: list[Trajectory | None], steps: int, dim: int) -> Trajectory:
    """One trajectory from the runs' parts, in run order (None: a disabled run)."""
    slices, ball_run, n = [], [], 0
    for i, part in enumerate(parts):
        size = part.n_balls if part is not None else 0
        slices.append(slice(n, n + size))
        ball_run += [i] * size
        n += size
    present = [p for p in parts if p is not None]

    def join(field: str, axis: int, empty: tuple[int, ...], dtype: type) -> np.ndarray:
        if not present:
            return np.zeros(empty, dtype)
        return np.concatenate([getattr(p, field) for p in present], axis=axis)

    t = steps + 1
    return Trajectory(
        positions=join("positions", 1, (t, 0, dim), float),
        loss=join("loss", 1, (t, 0), float),
        grad_norm=join("grad_norm", 1, (t, 0), float),
        lr=join("lr", 1, (t, 0), float),
        status=join("status", 0, (0,), np.int8),
        stop_step=join("stop_step", 0, (0,), np.int64),
        ball_run=np.array(ball_run, dtype=np.int64),
        ball_label=tuple(label for p in present for label in p.ball_label),
        run_slices=tuple(slices),
    )
