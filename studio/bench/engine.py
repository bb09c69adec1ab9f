"""`studio bench` engine rows: `simulate()` beside a per-ball Python loop.

The baseline is the same updates written the way optimization tutorials write them: a Python
loop over balls, each ball a vector, one step at a time (`studio.engine.reference`, the plain
reference the engine's tests check against; docs/architecture.md#benchmarks). Figures are the
best of a few repeats (the least disturbed by other work on the machine); the baseline's
ball-steps per second do not depend on N, so it is measured on a few balls and steps and
reported as a rate.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from studio.bench.table import BenchRow, Rows
from studio.engine.reference import GRADIENT_RULES, reference_path

GUI_OPTIMIZERS = GRADIENT_RULES  # the window's gradient optimizers
ROSENBROCK_START = (-1.5, 2.0)
ADAM = {"lr": 0.01, "tol": 0.0}  # tol 0: every ball runs all the steps


def _best(func: Callable[[], Any], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


# ------------------------------------------------------------------ the per-ball loop


def _rosenbrock_grad(p: np.ndarray) -> np.ndarray:
    x, y = p[0], p[1]
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def _loop_adam(starts: np.ndarray, steps: int, lr: float) -> list[np.ndarray]:
    """Adam, one ball after another, one step at a time (the tutorials' code shape)."""
    return [
        reference_path("adam", {"lr": lr}, start, _rosenbrock_grad, steps)[-1] for start in starts
    ]


def _loop_one(name: str, h: dict[str, Any], start: np.ndarray, steps: int) -> np.ndarray:
    """One optimizer on one ball: the engine's plain reference (docs/algorithms.md)."""
    return reference_path(name, h, start, _rosenbrock_grad, steps)[-1]


# ----------------------------------------------------------------------- engine section


def _gui_runs() -> list[Any]:
    from studio.engine import validate_hyper
    from studio.scene import RunSpec
    from studio.surface import PRESETS

    suggested = PRESETS["rosenbrock"].suggested
    return [
        RunSpec(name, dict(suggested.get(name, {})), (ROSENBROCK_START,))
        for name in GUI_OPTIMIZERS
        if validate_hyper(name, suggested.get(name, {}))
    ]


def engine_section(quick: bool) -> Rows:
    from studio.engine import RunCache, simulate, validate_hyper
    from studio.scene import RunSpec, SurfaceSpec
    from studio.surface import surface_from_spec

    surface = surface_from_spec(SurfaceSpec(preset="rosenbrock"))
    steps = 1000
    rows: list[BenchRow] = []

    base_balls, base_steps = (5, 200) if quick else (20, 500)
    rng = np.random.default_rng(0)
    starts = np.column_stack([rng.uniform(-2, 2, base_balls), rng.uniform(-1, 3, base_balls)])
    baseline_s = _best(lambda: _loop_adam(starts, base_steps, 0.01), 1 if quick else 3)
    baseline_rate = base_balls * base_steps / baseline_s

    for n in (1, 100, 10_000):
        side = math.isqrt(n)
        run = (
            RunSpec("adam", ADAM, (ROSENBROCK_START,))
            if n == 1
            else RunSpec("adam", ADAM, grid=(side, side))
        )
        simulate(surface, [run], 10, 0)  # warm up
        repeats = (1 if n == 10_000 else 3) if quick else (3 if n == 10_000 else 7)
        seconds = _best(lambda run=run: simulate(surface, [run], steps, 0), repeats)
        rows.append(
            BenchRow(
                name=f"Adam on Rosenbrock, N={n:,}, {steps} steps",
                value=n * steps / seconds,
                unit="ball-steps/s",
                baseline=baseline_rate,
                baseline_name="per-ball Python loop",
                target=">= 10 M" if n == 10_000 else "",
            )
        )

    runs = _gui_runs()
    hypers = [validate_hyper(r.optimizer, r.hyper) for r in runs]
    simulate(surface, runs, 10, 0)
    ours = _best(lambda: simulate(surface, runs, steps, 0), 3 if quick else 9)
    start = np.array(ROSENBROCK_START)
    loop_steps = 200 if quick else steps
    loop = _best(
        lambda: [
            _loop_one(r.optimizer, h, start, loop_steps) for r, h in zip(runs, hypers, strict=True)
        ],
        1 if quick else 3,
    )
    rows.append(
        BenchRow(
            name=f"GUI scene: {len(runs)} optimizers x 1 start x {steps} steps",
            value=ours * 1e3,
            unit="ms",
            baseline=loop * steps / loop_steps * 1e3,
            baseline_name="per-ball Python loop",
            lower_is_better=True,
            target="<= 150 ms",
        )
    )

    # What the GUI re-simulates after an edit of one run's learning rate (RunCache keeps
    # the other runs), beside the whole scene again.
    cache = RunCache()
    cache.simulate(surface, runs, steps, 0)
    edits = [dataclasses.replace(runs[0], hyper={**runs[0].hyper, "lr": lr}) for lr in (1e-3, 2e-3)]
    flip = iter(range(10**6))

    def edit_one() -> None:
        cache.simulate(surface, [edits[next(flip) % 2], *runs[1:]], steps, 0)

    rows.append(
        BenchRow(
            name=f"GUI edit of one run's lr ({len(runs)} optimizers x {steps} steps)",
            value=_best(edit_one, 3 if quick else 9) * 1e3,
            unit="ms",
            baseline=ours * 1e3,
            baseline_name="the whole scene again",
            lower_is_better=True,
        )
    )
    return "Engine (simulate, float64)", rows
