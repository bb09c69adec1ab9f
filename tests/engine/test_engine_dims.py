"""The engine on objectives of D parameters: every option works on (balls, D)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.engine import (
    CONVERGED,
    DIVERGED,
    OPTIMIZERS,
    RUNNING,
    STOPPED,
    Objective,
    RunCache,
    SimulationError,
    simulate,
)
from studio.engine.reference import GRADIENT_RULES, reference_easgd, reference_path
from studio.scene import RunSpec

from engine_surfaces import Bowl

D = 7


class Regression:
    """Mean ½(x·θ − y)² over M rows of a fixed random data set: D parameters, no domain."""

    def __init__(self, dim: int = D, rows: int = 24) -> None:
        rng = np.random.default_rng(11)
        self.x = rng.normal(size=(rows, dim))
        self.y = self.x @ rng.normal(size=dim) + 0.1 * rng.normal(size=rows)
        self.dim = dim
        self.n_rows = rows

    def value_and_grad(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # einsum, not `params @ x.T`: BLAS may round a ball's row differently with N.
        r = np.einsum("nd,md->nm", params, self.x) - self.y
        return 0.5 * (r * r).mean(axis=1), np.einsum("nm,md->nd", r, self.x) / self.n_rows

    def grad_rows(self, params: np.ndarray, rows: np.ndarray) -> np.ndarray:
        xb = self.x[rows]
        r = np.einsum("nbd,nd->nb", xb, params) - self.y[rows]
        return np.einsum("nb,nbd->nd", r, xb) / rows.shape[1]

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return self.value_and_grad(theta[None, :])[1][0]


class TwoBowls:
    """Bowl(θ0, θ1) + Bowl(θ2, θ3): two independent copies of a surface in D = 4."""

    dim = 4
    n_rows = 0

    def value_and_grad(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f1, g1 = Bowl().value_and_grad(params[:, :2])
        f2, g2 = Bowl().value_and_grad(params[:, 2:])
        return f1 + f2, np.concatenate([g1, g2], axis=1)

    def grad_rows(self, params: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.value_and_grad(params)[1]


START = np.linspace(-1.0, 1.5, D)


def test_objectives_satisfy_the_protocol() -> None:
    objective: Objective = Regression()  # checked by mypy; at run time, what simulate reads
    assert objective.dim == D and objective.n_rows == 24


@pytest.mark.parametrize("name", GRADIENT_RULES)
def test_every_rule_in_d_dimensions_matches_the_reference(name: str) -> None:
    hyper = {
        "lr": 0.02,
        "schedule": "step",
        "step_size": 7,
        "gamma": 0.7,
        "weight_decay": 0.05,
        "delay": 1,
    }
    run = RunSpec(name, {**hyper, "tol": 0.0})
    traj = simulate(Regression(), [run], 60, seed=0, starts=[START])
    assert traj.positions.shape == (61, 1, D) and traj.dim == D
    expected = reference_path(name, hyper, START, Regression().grad, 60)
    np.testing.assert_allclose(traj.positions[:, 0], expected, rtol=1e-11, atol=1e-13)


def test_easgd_in_d_dimensions_matches_the_reference() -> None:
    hyper = {"lr": 0.05, "rho": 0.5, "workers": 3, "grad_noise": 0.0, "delay": 2}
    traj = simulate(Regression(), [RunSpec("easgd", {**hyper, "tol": 0.0})], 30, 0, starts=[START])
    assert traj.positions.shape == (31, 4, D)
    np.testing.assert_allclose(
        traj.positions, reference_easgd(hyper, START, Regression().grad, 30), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "easgd"])
def test_a_separable_objective_gives_each_coordinate_pair_the_surface_path(name: str) -> None:
    """Every rule acts coordinate by coordinate: two bowls side by side in D = 4 give the
    bowl's 2-D path in both halves, bit for bit (noise excepted, which draws per shape)."""
    hyper = {"tol": 0.0, "lr": 0.01}
    if OPTIMIZERS[name].gradient_free or OPTIMIZERS[name].hyper["grad_noise"].default:
        hyper["grad_noise"] = 0.0
        if OPTIMIZERS[name].gradient_free:
            return  # the direction is random noise: nothing to compare coordinate-wise
    flat = simulate(Bowl(), [RunSpec(name, hyper, ((1.5, -0.7),))], 100, 0)
    four = simulate(
        TwoBowls(), [RunSpec(name, hyper)], 100, 0, starts=[np.array([1.5, -0.7, 1.5, -0.7])]
    )
    assert np.array_equal(four.positions[:, 0, :2], flat.positions[:, 0])
    assert np.array_equal(four.positions[:, 0, 2:], flat.positions[:, 0])


def test_noise_delay_batches_and_easgd_run_in_d_dimensions_reproducibly() -> None:
    runs = [RunSpec(n, {"grad_noise": 0.1, "lr": 0.01}) for n in OPTIMIZERS] + [
        RunSpec("adam", {"max_delay": 3, "batch_size": 5, "lr": 0.05}),
        RunSpec("sgd", {"batch_size": 4, "lr": 0.05, "schedule": "warmup", "warmup": 5}),
    ]
    starts = [np.stack([START, -START])] * len(runs)
    a = simulate(Regression(), runs, 80, 5, starts=starts)
    b = simulate(Regression(), runs, 80, 5, starts=starts)
    assert a.positions.shape[2] == D and np.array_equal(a.positions, b.positions)
    assert np.isfinite(a.positions).all() and (a.status != DIVERGED).all()
    easgd = a.run_slices[list(OPTIMIZERS).index("easgd")]
    assert easgd.stop - easgd.start == 2 * (1 + OPTIMIZERS["easgd"].hyper["workers"].default)
    assert a.ball_label[0].endswith("@ start 1") and a.ball_label[1].endswith("@ start 2")
    # A mini-batch gradient is not the full one: the batch runs differ from full-batch Adam.
    full = simulate(Regression(), [RunSpec("adam", {"lr": 0.05})], 80, 5, starts=[START])
    assert not np.array_equal(a.positions[:, a.run_slices[-2].start], full.positions[:, 0])
    sgd = a.run_slices[-1]
    assert a.loss[-1, sgd].max() < a.loss[0, sgd].min()


def test_mini_batches_cover_every_row_each_epoch_in_d_dimensions() -> None:
    seen: list[np.ndarray] = []

    class Spy(Regression):
        def grad_rows(self, params: np.ndarray, rows: np.ndarray) -> np.ndarray:
            assert params.shape[1] == D
            seen.append(rows.copy())
            return super().grad_rows(params, rows)

    simulate(Spy(), [RunSpec("momentum", {"batch_size": 8, "lr": 0.01})], 6, 0, starts=[START])
    for epoch in range(2):
        rows = np.concatenate(seen[3 * epoch : 3 * epoch + 3], axis=1)
        assert (np.sort(rows, axis=1) == np.arange(24)).all()


def test_stopping_rules_in_d_dimensions() -> None:
    runs = [
        RunSpec("adam", {"lr": 0.05, "tol": 1e-4, "patience": 20}, label="patient"),
        RunSpec("sgd", {"lr": 0.1, "tol": 1e-6}, label="exact"),
        RunSpec("sgd", {"lr": 50.0}, label="wild"),
        RunSpec("sgd", {"lr": 1e-4, "tol": 0.0}, label="slow"),
    ]
    traj = simulate(Regression(), runs, 3000, 0, starts=[START] * 4)
    assert traj.status.tolist() == [STOPPED, CONVERGED, DIVERGED, RUNNING]
    s = int(traj.stop_step[2])
    assert (
        np.isfinite(traj.positions[:, 2]).all()
        and (traj.positions[s:, 2] == traj.positions[s, 2]).all()
    )
    g = Regression().value_and_grad(traj.positions[-1])[1]
    np.testing.assert_allclose(traj.grad_norm[-1], np.linalg.norm(g, axis=1), rtol=1e-12)


def test_start_points_are_required_and_checked() -> None:
    with pytest.raises(SimulationError, match="needs its start points"):
        simulate(Regression(), [RunSpec("adam", {})], 5, 0)
    with pytest.raises(SimulationError, match=r"shape \(s, 7\)"):
        simulate(Regression(), [RunSpec("adam", {})], 5, 0, starts=[np.zeros(3)])
    # On a surface, given starts replace the run's own.
    traj = simulate(
        Bowl(),
        [RunSpec("adam", {}, ((1.0, 1.0),))],
        3,
        0,
        starts=[np.array([[2.0, -1.0], [0.5, 0.5]])],
    )
    np.testing.assert_array_equal(traj.positions[0], [[2.0, -1.0], [0.5, 0.5]])


def test_memory_limit_counts_the_parameters() -> None:
    big = Regression(dim=2000, rows=4)
    with pytest.raises(SimulationError, match="2,000 parameters is .* MB to keep"):
        simulate(big, [RunSpec("sgd", {})], 30_000, 0, starts=[np.zeros(2000)])


def test_run_cache_with_given_starts_equals_a_fresh_simulation() -> None:
    runs = [RunSpec("adam", {"lr": 0.05}), RunSpec("sgd", {"lr": 0.02, "grad_noise": 0.1})]
    starts = [START, -START]
    objective = Regression()
    cache = RunCache()
    cache.simulate(objective, runs, 40, 2, starts=starts)
    edited = [runs[0], RunSpec("sgd", {"lr": 0.03, "grad_noise": 0.1})]
    got = cache.simulate(objective, edited, 40, 2, starts=starts)
    want = simulate(objective, edited, 40, 2, starts=starts)
    assert np.array_equal(got.positions, want.positions)
    moved = cache.simulate(objective, edited, 40, 2, starts=[START + 1, -START])
    assert np.array_equal(
        moved.positions, simulate(objective, edited, 40, 2, starts=[START + 1, -START]).positions
    )
