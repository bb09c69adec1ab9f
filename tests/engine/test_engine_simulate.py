"""simulate(): layout, determinism, noise, mini-batches, stale gradients, stopping, registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio.engine import (
    CONVERGED,
    DIVERGED,
    OPTIMIZERS,
    RUNNING,
    SCHEDULES,
    STATUS_NAMES,
    STOPPED,
    HyperInfo,
    SimulationError,
    grid_starts,
    simulate,
    validate_hyper,
)
from studio.engine.schedules import cosine_restarts, exponential_decay, step_decay, warmup
from studio.errors import StudioError
from studio.scene import RunSpec

from engine_surfaces import Bowl, Cliff, Flat, Rosenbrock, SigmoidNeuron

EULER_GAMMA = 0.5772156649015329


# ------------------------------------------------------------------------------ layout


def test_balls_are_runs_times_starts_in_order() -> None:
    runs = [
        RunSpec("sgd", {"lr": 0.01}, ((1.0, 1.0), (2.0, 2.0)), label="A"),
        RunSpec("adam", {}, ((0.5, 0.5),), enabled=False),
        RunSpec("adam", {}, grid=(3, 2)),
    ]
    traj = simulate(Bowl(), runs, 5, seed=0)
    assert traj.positions.shape == (6, 8, 2)
    assert traj.loss.shape == traj.grad_norm.shape == traj.lr.shape == (6, 8)
    assert traj.ball_run.tolist() == [0, 0, 2, 2, 2, 2, 2, 2]
    assert traj.run_slices == (slice(0, 2), slice(2, 2), slice(2, 8))
    assert traj.ball_label[:2] == ("A @ (1, 1)", "A @ (2, 2)")
    assert traj.ball_label[2].startswith("Adam (lr 0.001) @ ")
    np.testing.assert_array_equal(traj.positions[0, :2], [[1, 1], [2, 2]])
    np.testing.assert_allclose(traj.positions[0, 2:], grid_starts(Bowl.domain, 3, 2))
    assert not traj.positions.flags.writeable


def test_grid_is_inset_from_the_edges() -> None:
    g = grid_starts((-5.0, 5.0, -1.0, 1.0), 3, 2)
    np.testing.assert_allclose(
        g, [[-4.5, -0.9], [0, -0.9], [4.5, -0.9], [-4.5, 0.9], [0, 0.9], [4.5, 0.9]]
    )
    np.testing.assert_allclose(grid_starts((-5.0, 5.0, -1.0, 1.0), 1, 1), [[0.0, 0.0]])


def test_loss_and_grad_norm_are_recorded_at_the_drawn_position() -> None:
    traj = simulate(Rosenbrock(), [RunSpec("nesterov", {"lr": 1e-4}, ((-1.2, 1.0),))], 20, 0)
    f, g = Rosenbrock().value_and_grad(traj.positions[:, 0])
    np.testing.assert_array_equal(traj.loss[:, 0], f)
    np.testing.assert_allclose(traj.grad_norm[:, 0], np.hypot(g[:, 0], g[:, 1]), rtol=1e-15)


def test_no_runs_and_zero_steps() -> None:
    assert simulate(Bowl(), [], 10, 0).positions.shape == (11, 0, 2)
    traj = simulate(Bowl(), [RunSpec("adam", {}, ((1.0, 1.0),))], 0, 0)
    assert traj.positions.shape == (1, 1, 2) and traj.stop_step.tolist() == [0]


def test_too_many_ball_steps_is_a_studio_error() -> None:
    with pytest.raises(SimulationError, match="fewer starts or steps"):
        simulate(Bowl(), [RunSpec("sgd", {}, grid=(64, 64))], 100_000, 0)


@pytest.mark.parametrize("bad", [-1, 1.5, True, 10**9])
def test_bad_steps_is_a_studio_error(bad: object) -> None:
    with pytest.raises(StudioError):
        simulate(Bowl(), [], bad, 0)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- determinism


def _noisy_scene() -> list[RunSpec]:
    return [
        RunSpec(name, {"grad_noise": 0.3}, ((1.0, 2.0), (-2.0, 1.0)))
        for name in OPTIMIZERS
        if name not in ("easgd",)
    ] + [
        RunSpec("easgd", {"workers": 3}, ((1.0, 2.0),)),
        RunSpec("sgd", {"max_delay": 4, "lr": 0.01}, ((1.0, 2.0),)),
    ]


def test_same_inputs_give_bit_identical_trajectories() -> None:
    a = simulate(Bowl(), _noisy_scene(), 200, seed=7)
    b = simulate(Bowl(), _noisy_scene(), 200, seed=7)
    for name in ("positions", "loss", "grad_norm", "lr", "status", "stop_step"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    c = simulate(Bowl(), _noisy_scene(), 200, seed=8)
    assert not np.array_equal(a.positions, c.positions)


def test_adding_a_run_does_not_change_the_others_noise() -> None:
    runs = _noisy_scene()
    a = simulate(Bowl(), runs, 100, seed=1)
    b = simulate(Bowl(), [*runs, RunSpec("sgd", {"grad_noise": 1.0}, ((0.0, 1.0),))], 100, 1)
    np.testing.assert_array_equal(a.positions, b.positions[:, : a.n_balls])
    disabled = [RunSpec("sgd", {"grad_noise": 1.0}, enabled=False), *runs]
    c = simulate(Bowl(), disabled, 100, seed=1)
    d = simulate(Bowl(), [RunSpec("adam", {"grad_noise": 1.0}), *runs], 100, seed=1)
    np.testing.assert_array_equal(c.positions, d.positions[:, 1:])


# ------------------------------------------------------------------------------- noise


def test_gradient_noise_statistics_on_a_flat_surface() -> None:
    eta, gamma, lr = 0.5, 0.55, 1.0
    run = RunSpec(
        "sgd", {"lr": lr, "grad_noise": eta, "noise_gamma": gamma, "tol": 0.0}, grid=(50, 40)
    )
    traj = simulate(Flat(), [run], 30, seed=2)
    steps = np.diff(traj.positions, axis=0)  # = −lr·N(0, σ_k²)
    k = np.arange(30)
    sigma = np.sqrt(eta / (1 + k) ** gamma)
    z = steps / sigma[:, None, None]
    assert abs(z.mean()) < 0.02
    assert abs(z.std() - 1) < 0.02
    per_step_std = steps.reshape(30, -1).std(axis=1) / sigma
    assert np.all(np.abs(per_step_std - 1) < 0.08)


@pytest.mark.parametrize(
    ("name", "mean", "std"),
    [
        ("noise_training", EULER_GAMMA, math.pi / math.sqrt(6)),
        ("noise_training_gaussian", EULER_GAMMA, math.sqrt(math.pi**2 / 6 + 0.3)),
    ],
)
def test_noise_training_moves_by_gumbel_noise(name: str, mean: float, std: float) -> None:
    run = RunSpec(name, {"lr": 1.0, "noise_gamma": 0.0, "tol": 0.0}, grid=(40, 40))
    traj = simulate(Flat(), [run], 20, seed=5)
    xi = -np.diff(traj.positions, axis=0)
    assert abs(xi.mean() - mean) < 0.03
    assert abs(xi.std() - std) < 0.03


def test_noise_training_gaussian_kind_and_adam_noise_training() -> None:
    run = RunSpec("noise_training", {"lr": 1.0, "noise": "gaussian", "tol": 0.0}, grid=(40, 40))
    xi = -np.diff(simulate(Flat(), [run], 20, seed=5).positions, axis=0)
    assert abs(xi.mean()) < 0.03 and abs(xi.std() - 1) < 0.03
    adam = simulate(
        Bowl(), [RunSpec("adam_noise_training", {"lr": 0.01}, ((3.0, 2.0),))], 300, seed=0
    )
    assert adam.status[0] == RUNNING and np.isfinite(adam.loss).all()
    assert np.linalg.norm(adam.positions[-1, 0]) > 1.0  # barely descends, honestly


# -------------------------------------------------------------------------- mini-batch


def test_batch_size_all_rows_equals_batch_gradient_descent_exactly() -> None:
    s = SigmoidNeuron()
    start = ((-2.0, -2.0),)
    full = simulate(s, [RunSpec("sgd", {"lr": 2.0}, start)], 200, 0)
    for b in (s.n_rows, 100):
        batch = simulate(s, [RunSpec("sgd", {"lr": 2.0, "batch_size": b}, start)], 200, 0)
        assert np.array_equal(full.positions, batch.positions)


def test_mini_batches_follow_a_fresh_shuffle_every_epoch() -> None:
    s = SigmoidNeuron()
    seen: list[np.ndarray] = []

    class Spy(SigmoidNeuron):
        def grad_rows(self, xy: np.ndarray, rows: np.ndarray) -> np.ndarray:
            seen.append(rows.copy())
            return super().grad_rows(xy, rows)

    traj = simulate(
        Spy(),
        [RunSpec("sgd", {"lr": 1.0, "batch_size": 4}, ((-2.0, -2.0), (-6.0, 4.0)))],
        6,
        seed=0,
    )
    assert [r.shape for r in seen] == [(2, 4), (2, 2)] * 3
    for epoch in range(3):
        rows = np.concatenate(seen[2 * epoch : 2 * epoch + 2], axis=1)
        assert (np.sort(rows, axis=1) == np.arange(s.n_rows)).all()
    assert not all(np.array_equal(seen[0], seen[2 * e]) for e in (1, 2))
    one = simulate(s, [RunSpec("sgd", {"lr": 1.0, "batch_size": 1}, ((-2.0, -2.0),))], 60, 0)
    full = simulate(s, [RunSpec("sgd", {"lr": 1.0}, ((-2.0, -2.0),))], 60, 0)
    assert not np.array_equal(one.positions, full.positions)
    assert one.loss[-1, 0] < one.loss[0, 0] and traj.status.tolist() == [0, 0]


def test_batch_size_on_a_plain_surface_is_an_error() -> None:
    with pytest.raises(SimulationError, match="data-fit"):
        simulate(Bowl(), [RunSpec("sgd", {"batch_size": 2})], 5, 0)


# ------------------------------------------------------------------- stale gradients


def test_fixed_delay_uses_the_gradient_of_tau_updates_ago() -> None:
    lr, tau = 0.01, 3
    traj = simulate(
        Bowl(), [RunSpec("sgd", {"lr": lr, "delay": tau, "tol": 0.0}, ((2.0, 1.0),))], 10, 0
    )
    p = traj.positions[:, 0]
    g = np.column_stack([2 * p[:, 0], 20 * p[:, 1]])
    for t in range(10):
        np.testing.assert_allclose(p[t + 1], p[t] - lr * g[max(0, t - tau)], rtol=1e-14)


def test_random_delay_uses_some_recent_gradient() -> None:
    lr, tau = 0.01, 3
    traj = simulate(
        Bowl(),
        [RunSpec("sgd", {"lr": lr, "max_delay": tau, "tol": 0.0}, ((2.0, 1.0), (-1.0, 0.5)))],
        30,
        4,
    )
    lags = set()
    for b in range(2):
        p = traj.positions[:, b]
        g = np.column_stack([2 * p[:, 0], 20 * p[:, 1]])
        for t in range(30):
            step = (p[t] - p[t + 1]) / lr
            match = [
                lag
                for lag in range(tau + 1)
                if t - lag >= 0 and np.allclose(step, g[t - lag], rtol=1e-12)
            ]
            assert match
            lags.add(match[0])
    assert lags == {0, 1, 2, 3}


# ------------------------------------------------------------------------------ stopping


def test_divergence_is_marked_without_warnings() -> None:
    runs = [
        RunSpec("sgd", {"lr": 3.0}, ((4.0, 0.0),), label="wild"),
        RunSpec("sgd", {"lr": 0.001}, ((3.0, 0.5),), label="calm"),
    ]
    traj = simulate(Cliff(), runs, 100, 0)  # filterwarnings=error turns any into a failure
    assert traj.status.tolist() == [DIVERGED, RUNNING]
    s = int(traj.stop_step[0])
    assert 0 < s < 100
    assert np.isfinite(traj.positions[:, 0]).all() and np.isfinite(traj.loss[:, 0]).all()
    assert (traj.positions[s:, 0] == traj.positions[s, 0]).all()
    assert traj.stop_step[1] == 100
    f, _ = Cliff().value_and_grad(traj.positions[s + 1 : s + 2, 0] + 0.0)
    assert np.isfinite(f).all()  # frozen at the last finite point, not the NaN one


def test_leaving_the_far_bound_is_divergence() -> None:
    traj = simulate(Rosenbrock(), [RunSpec("momentum", {"lr": 0.01}, ((-1.5, 2.0),))], 50, 0)
    assert traj.status[0] == DIVERGED
    assert np.abs(traj.positions[:, 0]).max() <= 1e6 * 4 + 2


def test_patience_stops_a_ball_early_not_converged() -> None:
    run = RunSpec("sgd", {"lr": 0.01, "tol": 1e-3, "patience": 10}, ((3.0, 2.0),))
    traj = simulate(Bowl(), [run], 2000, 0)
    s = int(traj.stop_step[0])
    assert traj.status[0] == STOPPED and 10 <= s < 2000
    assert STATUS_NAMES[STOPPED] == "stopped early"
    assert traj.loss[s - 10, 0] - traj.loss[s, 0] < 1e-3
    assert traj.grad_norm[s, 0] > 1e-3  # stopped by patience, not by the gradient
    assert (traj.positions[s:, 0] == traj.positions[s, 0]).all()


def test_a_small_gradient_is_converged_even_with_patience() -> None:
    run = RunSpec("sgd", {"lr": 0.04, "tol": 1e-6, "patience": 1}, ((0.0, 0.0), (3.0, 2.0)))
    traj = simulate(Bowl(), [run], 2000, 0)
    assert traj.status.tolist() == [CONVERGED, STOPPED]
    noisy = RunSpec(
        "sgd", {"lr": 0.01, "grad_noise": 0.01, "tol": 1e-3, "patience": 20}, ((3.0, 2.0),)
    )  # issue 15's case: noise, then no progress
    assert simulate(Bowl(), [noisy], 3000, 0).status[0] == STOPPED


@pytest.mark.parametrize(
    "run",
    [
        RunSpec("sgd", {"lr": 0.01, "grad_noise": 0.3}, ((0.0, 0.0),)),
        RunSpec("noise_training", {}, ((0.0, 0.0),)),
        RunSpec("easgd", {}, ((0.0, 0.0),)),
    ],
    ids=["grad_noise", "noise_training", "easgd"],
)
def test_noise_lets_a_ball_leave_a_critical_point(run: RunSpec) -> None:
    """A ball started where ∇f = 0 with a noisy gradient is not 'converged' at step 0:
    the noise is what moves it (docs/algorithms.md#gradient-tolerance)."""
    traj = simulate(Flat(), [run], 50, 0)
    assert (traj.status == RUNNING).all() and (traj.stop_step == 50).all()
    assert np.abs(traj.positions[-1] - traj.positions[0]).max() > 0


def test_noise_free_ball_at_a_minimum_converges_at_once() -> None:
    traj = simulate(Flat(), [RunSpec("sgd", {"lr": 0.01}, ((0.0, 0.0),))], 50, 0)
    assert traj.status[0] == CONVERGED and traj.stop_step[0] == 0


def test_size_limit_is_an_error_not_an_exhausted_machine() -> None:
    with pytest.raises(SimulationError, match="MB to keep"):
        simulate(Bowl(), [RunSpec("sgd", {}, grid=(64, 64))], 5000, 0)


# ----------------------------------------------------------------------------- registry


def test_validate_hyper_fills_defaults() -> None:
    h = validate_hyper("adam", {"lr": 0.05, "schedule": "step", "T0": 3})
    assert h["lr"] == 0.05 and h["beta1"] == 0.9 and h["beta2"] == 0.999 and h["eps"] == 1e-8
    assert h["step_size"] == 100 and h["gamma"] == 0.5 and "T0" not in h
    assert validate_hyper("adamw", {})["weight_decay"] == 0.01
    assert validate_hyper("rmsprop", {})["alpha"] == 0.9
    assert validate_hyper("sgd", {"delay": 2.0})["delay"] == 2


@pytest.mark.parametrize(
    ("name", "hyper", "message"),
    [
        ("adamm", {}, "unknown optimizer 'adamm'"),
        ("adam", {"beta3": 0.5}, "adam: unknown hyperparameter 'beta3'"),
        ("adam", {"lr": 0.0}, "adam: lr must be > 0"),
        ("sgd", {"lr": -1}, "sgd: lr must be > 0"),
        ("adam", {"beta1": 1.0}, "adam: beta1 must be in [0, 1)"),
        ("adam", {"beta2": -0.1}, "adam: beta2 must be in [0, 1)"),
        ("adam", {"eps": -1e-8}, "adam: eps must be >= 0"),
        ("momentum", {"momentum": 1.5}, "momentum: momentum must be in [0, 1)"),
        ("sgd", {"lr": "fast"}, "sgd: lr must be a number"),
        ("sgd", {"lr": float("nan")}, "sgd: lr must be finite"),
        ("sgd", {"schedule": "linear"}, "sgd: schedule must be one of"),
        ("sgd", {"schedule": "step", "step_size": 2.5}, "sgd: step_size must be a whole number"),
        ("sgd", {"schedule": "step", "step_size": 0}, "sgd: step_size must be >= 1"),
        ("sgd", {"delay": 1, "max_delay": 2}, "either delay or max_delay"),
        ("sgd", {"schedule": "exponential", "gamma": 2.0}, "sgd: gamma must be in (0, 1]"),
        ("sgd", {"workers": 2}, "unknown hyperparameter 'workers'"),
        ("noise_training", {"noise": "uniform"}, "noise must be one of gumbel, gaussian"),
        ("sgd", {"batch_size": True}, "batch_size must be a number"),
    ],
)
def test_validate_hyper_rejects_in_one_line(
    name: str, hyper: dict[str, object], message: str
) -> None:
    with pytest.raises(StudioError) as info:
        validate_hyper(name, hyper)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_every_key_has_gui_metadata_and_its_default_validates() -> None:
    for name, info in OPTIMIZERS.items():
        assert info.title and info.doc
        assert "lr" in info.hyper and "schedule" in info.hyper
        for h in info.hyper.values():
            assert isinstance(h, HyperInfo) and h.kind in ("float", "int", "choice") and h.help
            if h.kind == "choice":
                assert h.default in h.choices
            else:
                assert h.lo <= h.default <= h.hi or h.key == "tol", (name, h)
                assert not (h.log and h.lo <= 0)
        validate_hyper(name, info.defaults)
    for sched in SCHEDULES.values():
        for h in sched.keys:
            assert h.lo <= h.default <= h.hi
            validate_hyper("sgd", {"schedule": sched.name, h.key: h.default})


# ----------------------------------------------------------------------------- schedules


def test_schedules_match_their_closed_forms() -> None:
    k = np.arange(200)
    np.testing.assert_allclose(
        [step_decay(0.1, 30, 0.5)(i) for i in k], 0.1 * 0.5 ** (k // 30), rtol=1e-15
    )
    np.testing.assert_allclose(
        [exponential_decay(0.1, 0.98)(i) for i in k], 0.1 * 0.98**k, rtol=1e-13
    )
    w = 40
    s = k + 1
    noam = 0.1 * np.sqrt(w) * np.minimum(s**-0.5, s * w**-1.5)
    got = np.array([warmup(0.1, w)(i) for i in k])
    np.testing.assert_allclose(got, noam, rtol=1e-14)
    assert got.argmax() == w - 1 and math.isclose(got.max(), 0.1)


@pytest.mark.parametrize(("t0", "t_mult"), [(10, 1), (5, 2), (3, 3), (1, 1)])
def test_cosine_restarts_matches_torchs_recurrence(t0: int, t_mult: int) -> None:
    lr, eta_min = 0.2, 0.01
    sched = cosine_restarts(lr, t0, t_mult, eta_min)
    t_cur, t_i = 0, t0
    for k in range(300):  # CosineAnnealingWarmRestarts.step(), written out
        expected = eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2
        assert math.isclose(sched(k), expected, rel_tol=1e-15), k
        t_cur += 1
        if t_cur >= t_i:
            t_cur -= t_i
            t_i *= t_mult


def test_lr_array_holds_each_updates_rate() -> None:
    run = RunSpec(
        "sgd", {"lr": 0.1, "schedule": "step", "step_size": 2, "gamma": 0.1}, ((1.0, 1.0),)
    )
    traj = simulate(Bowl(), [run], 5, 0)
    np.testing.assert_allclose(traj.lr[:, 0], [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
