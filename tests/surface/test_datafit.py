"""Data-fit surfaces: f is the mean per-row loss; mini-batch gradients per ball."""

from __future__ import annotations

import numpy as np
import pytest

from studio.surface import PRESETS, ExpressionError, make_data_surface, preset_surface
from studio.surface.datafit import read_rows

DATA_FIT = [name for name, p in PRESETS.items() if p.data_fit]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("name", DATA_FIT)
def test_grad_rows_over_all_rows_is_the_full_gradient(name: str) -> None:
    surface = preset_surface(name)
    rng = np.random.default_rng(0)
    xmin, xmax, ymin, ymax = surface.domain
    xy = np.column_stack([rng.uniform(xmin, xmax, 50), rng.uniform(ymin, ymax, 50)])
    rows = np.tile(np.arange(surface.n_rows), (50, 1))
    np.testing.assert_array_equal(surface.grad_rows(xy, rows), surface.value_and_grad(xy)[1])


@pytest.mark.parametrize("name", DATA_FIT)
def test_grad_rows_is_the_mean_of_single_row_gradients(name: str) -> None:
    surface = preset_surface(name)
    rng = np.random.default_rng(1)
    xy = rng.uniform(-2, 2, size=(8, 2))
    rows = rng.integers(0, surface.n_rows, size=(8, 3))
    singles = np.stack([surface.grad_rows(xy, rows[:, [k]]) for k in range(3)])
    np.testing.assert_allclose(
        surface.grad_rows(xy, rows), singles.mean(axis=0), rtol=1e-12, atol=1e-15
    )


def test_sigmoid_neuron_is_seed_002() -> None:
    surface = preset_surface("sigmoid_neuron")
    u, v = np.array([0.5, 2.5]), np.array([0.2, 0.9])
    w, b = -2.0, -2.0
    expected = np.mean(0.5 * (sigmoid(w * u + b) - v) ** 2)
    s = sigmoid(w * u + b)
    dw = np.mean((s - v) * s * (1 - s) * u)
    db = np.mean((s - v) * s * (1 - s))
    f, g = surface.value_and_grad(np.array([[w, b]]))
    assert f[0] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(g[0], [dw, db], rtol=1e-10)
    six = preset_surface("sigmoid_neuron_6")
    assert six.n_rows == 6 and six.data is not None and six.data[0].tolist() == [3.5, 0.5]


def test_shipped_csv_data() -> None:
    line = read_rows("data/line_fit.csv")
    logistic = read_rows("data/logistic.csv")
    assert 15 <= len(line) <= 40 and 15 <= len(logistic) <= 40
    assert {v for _, v in logistic} == {-1.0, 1.0}
    u = np.array([r[0] for r in line])
    v = np.array([r[1] for r in line])
    slope, intercept = np.polyfit(u, v, 1)
    assert slope == pytest.approx(0.8, abs=0.15) and intercept == pytest.approx(1, abs=0.2)
    surface = preset_surface("line_fit")
    g = surface.value_and_grad(np.array([[slope, intercept]]))[1]
    assert np.abs(g).max() < 1e-9


def test_data_is_read_only_and_checked() -> None:
    surface = preset_surface("line_fit")
    assert surface.data is not None
    with pytest.raises(ValueError):
        surface.data[0, 0] = 5.0
    with pytest.raises(ExpressionError):
        make_data_surface("(x*u - v)^2", [[1.0, float("nan")]])
    with pytest.raises(ExpressionError):
        make_data_surface("(x*u - v)^2", [])
    with pytest.raises(ExpressionError, match="unknown name 'w'"):
        make_data_surface("(w*u - v)^2", [[1.0, 2.0]])


def test_data_fit_shapes_and_constant_loss() -> None:
    surface = make_data_surface("3", [[1.0, 2.0], [3.0, 4.0]])
    f, g = surface.value_and_grad(np.zeros((5, 2)))
    assert f.shape == (5,) and g.shape == (5, 2)
    np.testing.assert_array_equal(f, 3.0)
    assert surface.grad_rows(np.zeros((5, 2)), np.zeros((5, 1), dtype=int)).shape == (5, 2)
    with pytest.raises(ValueError):
        surface.grad_rows(np.zeros((5, 2)), np.zeros((4, 1), dtype=int))


def test_plain_surface_batches_are_full_gradient() -> None:
    bowl = preset_surface("bowl")
    xy = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(
        bowl.grad_rows(xy, np.zeros((1, 3), dtype=int)), bowl.value_and_grad(xy)[1]
    )
    assert bowl.n_rows == 0 and bowl.data is None
