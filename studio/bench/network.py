"""The "network" section of `studio bench`: training and landscape speed on the default
`digits01` network (64 → 16 → 8 → 1, sigmoid, D = 1185), each beside a baseline timed in the
same run.

- Training: the engine's `simulate` of the ten optimizers of `studio.network.reference`
  (their default hyperparameters, one run each from the shared initial weights) × 1,000
  full-batch steps, every run's gradient from one vectorised backprop per step, against the
  same ten trained one after another, one network at a time (the article's way). Target: at
  most 2 s.
- The 41 × 41 grid of full-batch training losses on the PCA plane of those paths, against the
  same losses one grid point at a time. Target: at most 1 s.
- The PCA plane of the 10 × 1,001 parameter vectors, against a full thin SVD.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from studio.bench.table import BenchRow
from studio.engine.simulate import simulate
from studio.network.landscape import network_starts
from studio.network.model import NetworkObjective, NetworkSpec
from studio.network.plane import grid_axes, loss_grid, pca_plane
from studio.network.reference import DEFAULTS, OPTIMIZERS, loss_and_grad, train
from studio.scene import RunSpec

RUNS = 10
STEPS = 1000
GRID = 41
LRS = np.geomspace(0.05, 2.0, RUNS)  # ten SGD runs that spread out on the plane


def _best(func: Callable[[], Any], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def train_vectorised(obj: NetworkObjective, steps: int = STEPS) -> np.ndarray:
    """RUNS SGD runs from the shared initial weights: the path (steps + 1, RUNS, D)."""
    path = np.empty((steps + 1, RUNS, obj.dim))
    path[0] = obj.initial_params()
    lrs = LRS[:, None]
    for t in range(steps):
        path[t + 1] = path[t] - lrs * obj.value_and_grad(path[t])[1]
    return path


def train_engine(obj: NetworkObjective, steps: int = STEPS) -> np.ndarray:
    """The ten optimizers through the engine's `simulate`: the path (steps + 1, 10, D)."""
    runs = [RunSpec(name, {**DEFAULTS[name], "tol": 0.0}) for name in OPTIMIZERS]
    return simulate(obj, runs, steps, 0, starts=network_starts(obj, runs)).positions


def network_section(quick: bool) -> tuple[str, list[BenchRow]]:
    spec = NetworkSpec()
    obj = NetworkObjective(spec)
    data = obj.task_data
    rows: list[BenchRow] = []
    repeats = 1 if quick else 3

    train_engine(obj, 5)  # warm up
    ours = _best(lambda: train_engine(obj), repeats)
    loop_steps = 100 if quick else STEPS
    loop = _best(lambda: [train(spec, name, steps=loop_steps, data=data) for name in OPTIMIZERS], 1)
    rows.append(
        BenchRow(
            name=f"simulate: {len(OPTIMIZERS)} optimizers x {STEPS:,} full-batch steps, digits01 "
            f"16x8 (D={obj.dim:,})",
            value=ours * 1e3,
            unit="ms",
            baseline=loop * STEPS / loop_steps * 1e3,
            baseline_name="10 optimizers one at a time",
            lower_is_better=True,
            target="<= 2000 ms",
        )
    )

    path = train_vectorised(obj)
    plane_s = _best(lambda: pca_plane(path), repeats)
    stacked = (path - path[0, 0]).reshape(-1, obj.dim)
    svd_s = _best(lambda: np.linalg.svd(stacked, full_matrices=False), 1)
    rows.append(
        BenchRow(
            name=f"PCA plane of {RUNS} x {STEPS + 1:,} parameter vectors",
            value=plane_s * 1e3,
            unit="ms",
            baseline=svd_s * 1e3,
            baseline_name="full thin SVD",
            lower_is_better=True,
        )
    )

    plane = pca_plane(path)
    xs, ys = grid_axes(plane.project(path), GRID)
    grid_s = _best(lambda: loss_grid(obj, plane, xs, ys), repeats)
    points = plane.point(np.stack(np.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2))
    sample = points[:: 8 if quick else 1]
    one_s = _best(lambda: [loss_and_grad(spec, p, data.x_train, data.y_train) for p in sample], 1)
    rows.append(
        BenchRow(
            name=f"{GRID}x{GRID} training-loss grid on the PCA plane",
            value=grid_s * 1e3,
            unit="ms",
            baseline=one_s * len(points) / len(sample) * 1e3,
            baseline_name="one point at a time",
            lower_is_better=True,
            target="<= 1000 ms",
        )
    )
    return "Network lab (digits01, float64)", rows
