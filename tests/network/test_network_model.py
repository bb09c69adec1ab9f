"""The network: spec and its one-line errors, the parameter layout, seeded initial weights,
and exact vectorised gradients (against central differences and the plain reference)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from studio.errors import StudioError
from studio.network import model
from studio.network.model import (
    MAX_PARAMS,
    NetworkError,
    NetworkObjective,
    NetworkSpec,
    init_params,
    layer_slices,
    unflatten,
)
from studio.network.reference import loss_and_grad

SMALL = {"hidden": (4, 3)}


def _objective(task: str, activation: str, **kw: Any) -> NetworkObjective:
    return NetworkObjective(NetworkSpec(task=task, activation=activation, **{**SMALL, **kw}))


def _moved(obj: NetworkObjective, runs: int, seed: int = 1) -> np.ndarray:
    """Initial weights plus a perturbation per run, so runs (and biases) differ."""
    rng = np.random.default_rng(seed)
    return obj.initial_params() + rng.normal(0.0, 0.3, (runs, obj.dim))


# ----------------------------------------------------------------------------- the spec


def test_default_spec_layout() -> None:
    spec = NetworkSpec()
    assert (spec.task, spec.hidden, spec.activation, spec.init_seed) == (
        "digits01",
        (16, 8),
        "sigmoid",
        0,
    )
    assert spec.sizes == (64, 16, 8, 1)
    assert spec.n_params == 1185
    starts = [(s.w_start, s.b_start, s.end) for s in layer_slices(spec)]
    assert starts == [(0, 1024, 1040), (1040, 1168, 1176), (1176, 1184, 1185)]
    assert NetworkSpec(task="digits").sizes == (64, 16, 8, 10)


def test_unflatten_reads_row_major_weights_then_biases() -> None:
    spec = NetworkSpec(hidden=(3,))
    params = np.arange(spec.n_params, dtype=float)
    (w1, b1), (w2, b2) = unflatten(params, spec)
    assert w1.shape == (64, 3) and w1[2, 1] == 2 * 3 + 1  # W[i, j] at i * fan_out + j
    assert b1.tolist() == [192.0, 193.0, 194.0]
    assert w2.shape == (3, 1) and w2[:, 0].tolist() == [195.0, 196.0, 197.0]
    assert b2.tolist() == [198.0]


def test_dict_and_text_round_trips() -> None:
    spec = NetworkSpec(task="digits", hidden=(32, 16, 8), activation="relu", init_seed=7)
    assert NetworkSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict() == {
        "task": "digits",
        "hidden": [32, 16, 8],
        "activation": "relu",
        "init_seed": 7,
    }
    assert NetworkSpec.parse(spec.to_text()) == spec
    assert NetworkSpec.parse("digits01:hidden=16x8,activation=sigmoid") == NetworkSpec()
    assert NetworkSpec.parse("digits01") == NetworkSpec()
    assert NetworkSpec.from_dict({}) == NetworkSpec()
    assert NetworkSpec(hidden=[5, 4]).hidden == (5, 4)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: NetworkSpec(task="mnist"), "unknown task 'mnist' (choose from digits01, digits)"),
        (
            lambda: NetworkSpec(activation="elu"),
            "unknown activation 'elu' (choose from sigmoid, tanh, relu)",
        ),
        (lambda: NetworkSpec(hidden=()), "a network has 1 to 4 hidden layers, not 0"),
        (lambda: NetworkSpec(hidden=(4, 4, 4, 4, 4)), "a network has 1 to 4 hidden layers, not 5"),
        (
            lambda: NetworkSpec(hidden=(0, 8)),
            "a hidden layer size must be between 1 and 256, not 0",
        ),
        (
            lambda: NetworkSpec(hidden=(16, 257)),
            "a hidden layer size must be between 1 and 256, not 257",
        ),
        (
            lambda: NetworkSpec(hidden=(8.5,)),  # type: ignore[arg-type]
            "a hidden layer size must be a whole number, not 8.5",
        ),
        (
            lambda: NetworkSpec(hidden=(256, 256)),
            f"82,689 parameters is too many (at most {MAX_PARAMS:,}); use smaller hidden layers",
        ),
        (lambda: NetworkSpec(init_seed=-1), "init_seed must be between 0 and 4294967295, not -1"),
        (
            lambda: NetworkSpec.from_dict({"task": "digits", "depth": 3}),
            "unknown network key 'depth'",
        ),
        (
            lambda: NetworkSpec.from_dict({"hidden": "16x8"}),
            "hidden sizes must be a list of whole numbers, not '16x8'",
        ),
        (
            lambda: NetworkSpec.parse("digits01:hidden=16,8"),
            "expected key=value in the network, not '8'",
        ),
        (
            lambda: NetworkSpec.parse("digits01:hidden=16-8"),
            "hidden sizes are written like 16x8, not '16-8'",
        ),
        (
            lambda: NetworkSpec.parse("digits01:width=3"),
            "unknown network key 'width' (choose from hidden, activation, init_seed)",
        ),
        (
            lambda: NetworkSpec.parse("digits01:init_seed=x"),
            "init_seed must be a whole number, not 'x'",
        ),
    ],
)
def test_bad_networks_are_one_line_errors(build: Any, message: str) -> None:
    with pytest.raises(NetworkError) as info:
        build()
    assert isinstance(info.value, StudioError)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------ initial weights


def test_init_is_deterministic_per_seed() -> None:
    spec = NetworkSpec()
    a, b = init_params(spec), init_params(spec)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init_params(NetworkSpec(init_seed=1)))
    np.testing.assert_array_equal(a, NetworkObjective(spec).initial_params())


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_init_scales(activation: str) -> None:
    spec = NetworkSpec(hidden=(128, 64), activation=activation)
    layers = unflatten(init_params(spec), spec)
    for k, (w, b) in enumerate(layers):
        fan_in, fan_out = w.shape
        assert np.all(b == 0.0)
        if activation == "relu" and k < len(layers) - 1:
            # He normal: standard deviation sqrt(2 / fan_in).
            assert np.std(w) == pytest.approx(np.sqrt(2.0 / fan_in), rel=0.1)
        else:
            # Xavier uniform on (-a, a): a = sqrt(6 / (fan_in + fan_out)), std a / sqrt(3).
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            assert np.abs(w).max() <= bound
            assert np.std(w) == pytest.approx(bound / np.sqrt(3.0), rel=0.15)


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("task", ["digits01", "digits"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_gradient_matches_central_differences(task: str, activation: str) -> None:
    obj = _objective(task, activation)
    params = _moved(obj, 2)
    loss, grad = obj.value_and_grad(params)
    assert loss.shape == (2,) and grad.shape == (2, obj.dim)
    h = 1e-6
    eye = np.eye(obj.dim)
    for run in range(2):
        plus = obj.loss(params[run] + h * eye)
        minus = obj.loss(params[run] - h * eye)
        np.testing.assert_allclose(grad[run], (plus - minus) / (2 * h), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("task", ["digits01", "digits"])
def test_minibatch_gradient_matches_central_differences_and_reference(task: str) -> None:
    obj = _objective(task, "tanh")
    params = _moved(obj, 3)
    rows = np.random.default_rng(2).integers(0, obj.n_train, (3, 20))
    loss, grad = obj.value_and_grad(params, rows)
    data = obj.task_data
    for run in range(3):
        ref_loss, ref_grad = loss_and_grad(
            obj.spec, params[run], data.x_train[rows[run]], data.y_train[rows[run]]
        )
        assert loss[run] == pytest.approx(ref_loss, rel=1e-12)
        np.testing.assert_allclose(grad[run], ref_grad, rtol=1e-10, atol=1e-14)
    h = 1e-6
    eye = np.eye(obj.dim)
    run_rows = np.broadcast_to(rows[0], (obj.dim, 20))
    fd = obj.loss(params[0] + h * eye, run_rows) - obj.loss(params[0] - h * eye, run_rows)
    np.testing.assert_allclose(grad[0], fd / (2 * h), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "spec", [NetworkSpec(), NetworkSpec(task="digits", activation="relu", hidden=(12, 10, 8))]
)
def test_full_batch_matches_the_plain_reference(spec: NetworkSpec) -> None:
    obj = NetworkObjective(spec)
    params = _moved(obj, 4)
    loss, grad = obj.value_and_grad(params)
    data = obj.task_data
    for run in range(4):
        ref_loss, ref_grad = loss_and_grad(spec, params[run], data.x_train, data.y_train)
        assert loss[run] == pytest.approx(ref_loss, rel=1e-12)
        np.testing.assert_allclose(grad[run], ref_grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(obj.loss(params), loss, rtol=1e-13)
    np.testing.assert_allclose(obj.train_metrics(params)[0], loss, rtol=1e-13)


def test_chunked_runs_equal_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    obj = _objective("digits", "sigmoid")
    params = _moved(obj, 9)
    rows = np.random.default_rng(3).integers(0, obj.n_train, (9, 16))
    whole = [obj.value_and_grad(params), obj.value_and_grad(params, rows), obj.validation(params)]
    monkeypatch.setattr(model, "CHUNK_BYTES", 1)  # one run per chunk
    assert len(obj._chunks(9, 16)) == 9
    chunked = [obj.value_and_grad(params), obj.value_and_grad(params, rows), obj.validation(params)]
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-13)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-16)


def test_validation_loss_and_accuracy() -> None:
    obj = NetworkObjective(NetworkSpec())
    params = _moved(obj, 3)
    loss, acc = obj.validation(params)
    data = obj.task_data
    for run in range(3):
        ref_loss, _ = loss_and_grad(obj.spec, params[run], data.x_val, data.y_val)
        assert loss[run] == pytest.approx(ref_loss, rel=1e-12)
        (w1, b1), (w2, b2), (w3, b3) = unflatten(params[run], obj.spec)

        def sig(z: np.ndarray) -> np.ndarray:
            return 1.0 / (1.0 + np.exp(-z))

        prob = sig(sig(sig(data.x_val @ w1 + b1) @ w2 + b2) @ w3 + b3)[:, 0]
        assert acc[run] == pytest.approx(np.mean((prob > 0.5) == data.y_val))
    digits = NetworkObjective(NetworkSpec(task="digits"))
    loss, acc = digits.validation(digits.initial_params()[None])
    assert 0.0 <= acc[0] <= 1.0 and loss[0] > 0


@pytest.mark.parametrize("task", ["digits01", "digits"])
def test_huge_weights_give_finite_loss_and_gradient(task: str) -> None:
    # Warnings are errors in the tests: no overflow in exp, no log(0).
    obj = _objective(task, "sigmoid")
    params = _moved(obj, 2) * 1e4
    loss, grad = obj.value_and_grad(params)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad)) and np.all(loss > 0)


def test_params_must_be_runs_by_dim() -> None:
    obj = NetworkObjective(NetworkSpec())
    with pytest.raises(ValueError, match=r"params must be \(N, 1185\)"):
        obj.value_and_grad(obj.initial_params())


def test_network_package_loads_no_qt() -> None:
    code = (
        "import sys, studio.network, studio.network.plane, studio.network.reference\n"
        "import studio.network.landscape\n"
        "import studio.bench.network\n"
        "print(','.join(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'OpenGL'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
