"""Where a ball may start: f and its gradient must have a value there.

A formula such as log(x) + y² or sqrt(x*y) is undefined on part of the plane (NumPy gives
NaN there). A ball started in such a hole has no loss and no gradient, so it cannot take a
single step; without this check it read "diverged at step 0", which blames the optimizer
for the formula. So (docs/algorithms.md#undefined-regions):

- a listed start where f is NaN or −∞, or where f has a value but its gradient does not
  (sqrt(x) at x = 0), is refused with the reason, one line;
- a start grid keeps only its points where f and ∇f have values, and is refused only when
  none is left (`grid_note` says how many were left out);
- f = +∞ (overflow, far out on exp(x²)) is not refused: that start does diverge at once.

A ball that walks into a hole later is still marked diverged, at the last point where its
loss had a value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from studio.engine.labels import run_labels
from studio.engine.objective import Objective
from studio.errors import StudioError
from studio.scene import RunSpec


class UndefinedStartError(StudioError):
    """A run starts where the objective (or its gradient) has no value."""


def start_problems(objective: Objective, points: ArrayLike) -> list[str | None]:
    """For each (s, D) start point, why a ball cannot start there, or None if it can."""
    pts = np.asarray(points, dtype=np.float64)
    if not len(pts):
        return []
    f, grad = objective.value_and_grad(pts)
    f = np.asarray(f, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64).reshape(len(pts), -1)
    out: list[str | None] = []
    for value, g in zip(f, grad, strict=True):
        if np.isnan(value):
            out.append("where f is undefined (log or square root of a negative number?)")
        elif value == -np.inf:
            out.append("where f is minus infinity (log of 0?)")
        elif np.isfinite(value) and not np.isfinite(g).all():
            out.append("where the gradient of f is undefined (infinitely steep there)")
        else:
            out.append(None)
    return out


def _where(point: np.ndarray) -> str:
    if len(point) == 2:
        return f"({point[0]:.4g}, {point[1]:.4g})"
    return "its start point"


def check_starts(objective: Objective, name: str, points: np.ndarray, grid: bool) -> np.ndarray:
    """The run's start points a ball can start from; `UndefinedStartError` if a listed start
    (`grid` False) has no value, or if no point of a start grid has one."""
    problems = start_problems(objective, points)
    bad = [k for k, p in enumerate(problems) if p is not None]
    if not bad:
        return points
    if not grid:
        k = bad[0]
        raise UndefinedStartError(f"run '{name}': start {_where(points[k])} is {problems[k]}")
    if len(bad) == len(points):
        raise UndefinedStartError(
            f"run '{name}': every point of its start grid is where f or its gradient is "
            "undefined; move the domain or use a start point"
        )
    keep = np.ones(len(points), dtype=bool)
    keep[bad] = False
    return points[keep]


def grid_note(objective: Objective, points: ArrayLike) -> str:
    """'' or, for a start grid with points in a hole, how many are left out."""
    problems = start_problems(objective, points)
    bad = sum(p is not None for p in problems)
    if not bad:
        return ""
    return (
        f"{bad} of {len(problems)} grid starts are where f or its gradient is undefined: left out"
    )


def grid_notes(objective: Objective, runs: Sequence[RunSpec]) -> list[str]:
    """For each enabled run with a start grid partly in a hole of f, a line saying how many
    of its points are left out (what `studio trace` and `studio render` print)."""
    from studio.engine.simulate import grid_starts  # simulate imports this module

    domain = getattr(objective, "domain", None)
    if domain is None:
        return []
    names = run_labels(runs)
    out = []
    for name, run in zip(names, runs, strict=True):
        if run.enabled and run.grid is not None:
            note = grid_note(objective, grid_starts(tuple(domain), *run.grid))
            if note:
                out.append(f"run '{name}': {note}")
    return out
