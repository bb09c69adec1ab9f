"""Surfaces: exact gradients, shapes, quiet non-finite values, printing, specs and caching."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from studio.errors import StudioError
from studio.scene import SurfaceSpec
from studio.surface import (
    PRESETS,
    ExpressionError,
    Surface,
    UnknownPresetError,
    make_surface,
    parse_expression,
    preset_surface,
    pretty,
    surface_from_spec,
    to_latex,
)


def central_difference(surface: Surface, xy: np.ndarray, h: float = 1e-6) -> np.ndarray:
    out = np.empty_like(xy)
    for k in range(2):
        step = np.zeros(2)
        step[k] = h
        out[:, k] = (surface.value(xy + step) - surface.value(xy - step)) / (2 * h)
    return out


def assert_gradient_matches(surface: Surface, xy: np.ndarray) -> None:
    f, grad = surface.value_and_grad(xy)
    np.testing.assert_array_equal(f, surface.value(xy))
    numeric = central_difference(surface, xy)
    ok = np.all(np.isfinite(grad), axis=1) & np.all(np.isfinite(numeric), axis=1)
    assert ok.any()
    scale = 1 + np.abs(grad[ok]) + np.abs(f[ok, None]) * 1e-3
    assert np.all(np.abs(grad[ok] - numeric[ok]) <= 1e-4 * scale), surface.expression


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_gradients_match_central_differences(name: str) -> None:
    surface = preset_surface(name)
    xmin, xmax, ymin, ymax = surface.domain
    rng = np.random.default_rng(7)
    xy = np.column_stack([rng.uniform(xmin, xmax, 40), rng.uniform(ymin, ymax, 40)])
    assert_gradient_matches(surface, xy)


_LEAVES = st.sampled_from(["x", "y", "2", "0.5", "pi", "3x", "(x - y)", "1.5y"])


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    unary = st.sampled_from(
        ["sin", "cos", "tanh", "atan", "sigmoid", "softplus", "-", "exp", "sqrt", "log"]
    )
    binary = st.sampled_from(["+", "-", "*", "^2 +", "/(1 + (y)^2) +"])
    return st.one_of(
        st.builds(
            lambda f, a: (
                f"{f}(({a})/3)"
                if f in ("exp",)
                else f"{f}(1 + ({a})^2)"
                if f in ("sqrt", "log")
                else f"{f}({a})"
            ),
            unary,
            inner,
        ),
        st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, binary, inner),
        st.builds(lambda a, b: f"hypot({a}, {b})", inner, inner),
        st.builds(lambda a, b: f"atan2(1 + ({a})^2, {b})", inner, inner),
    )


EXPRESSIONS = st.recursive(_LEAVES, _extend, max_leaves=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_generated_expression_gradients(text: str) -> None:
    surface = make_surface(text)
    rng = np.random.default_rng(3)
    xy = rng.uniform(-1.5, 1.5, size=(25, 2))
    f, grad = surface.value_and_grad(xy)
    assume(np.all(np.isfinite(f)) and np.all(np.abs(grad) < 1e5))
    assert_gradient_matches(surface, xy)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_pretty_round_trips(text: str) -> None:
    expr = parse_expression(text)
    again = parse_expression(pretty(expr))
    # sympy may distribute a number over a sum it prints as 2*(y^2 + 1), so the text settles
    # after one more round; the values never change.
    settled = pretty(parse_expression(pretty(again)))
    assert pretty(parse_expression(settled)) == settled
    a, b = make_surface(text), make_surface(pretty(expr))
    xy = np.random.default_rng(1).uniform(-1, 1, size=(10, 2))
    np.testing.assert_allclose(a.value(xy), b.value(xy), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_text_round_trips(name: str) -> None:
    surface = preset_surface(name)
    if surface.n_rows:
        return
    assert pretty(parse_expression(surface.expression, surface.params)) == surface.expression
    for part in surface.gradient_text:
        parse_expression(part, surface.params)
    assert surface.latex and all(surface.gradient_latex)


def test_acceptance_strings() -> None:
    for text in ("x^2 + 10y^2", "(1-x)^2 + 100(y-x^2)^2", "sin(x)*cos(y) + 0.1(x^2+y^2)"):
        surface = make_surface(text)
        f, g = surface.value_and_grad(np.array([[1.0, 1.0], [0.0, 0.0]]))
        assert f.shape == (2,) and g.shape == (2, 2)
    rosen = make_surface("(1-x)^2 + 100(y-x^2)^2")
    np.testing.assert_array_equal(rosen.value_and_grad(np.array([[1.0, 1.0]]))[1], [[0, 0]])
    assert rosen.gradient_text == ("-400*x*(-x^2 + y) + 2*x - 2", "-200*x^2 + 200*y")
    assert "\\left(" in rosen.latex


def test_constant_expression_shapes() -> None:
    surface = make_surface("3")
    f, g = surface.value_and_grad(np.zeros((4, 2)))
    np.testing.assert_array_equal(f, [3, 3, 3, 3])
    np.testing.assert_array_equal(g, np.zeros((4, 2)))
    assert surface.value(np.zeros((0, 2))).shape == (0,)
    one = make_surface("x")
    np.testing.assert_array_equal(one.value_and_grad(np.ones((3, 2)))[1], [[1, 0]] * 3)


def test_non_finite_values_are_quiet() -> None:
    """log 0, 1/0 and overflow come back as inf/nan; warnings are errors in this suite."""
    surface = make_surface("log(x) + 1/y + exp(x*y)")
    f, g = surface.value_and_grad(np.array([[0.0, 0.0], [-1.0, 1.0], [30.0, 30.0]]))
    assert not np.isfinite(f).any()
    assert not np.isfinite(g[0]).all()
    assert np.isnan(make_surface("sqrt(x)").value(np.array([[-1.0, 0.0]])))[0]


def test_kinks_have_finite_subgradients() -> None:
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [-2.0, 3.0]])
    for text in (
        "abs(x) + abs(y)",
        "min(x, y)",
        "max(x, y)",
        "max(abs(x), y^2) + sign(x)*y",
        "abs(log(1 + x^2))",
        "hypot(x, y) + 1",
        "sqrt(x^2)",
    ):
        f, g = make_surface(text).value_and_grad(xy)
        assert np.all(np.isfinite(f)) and np.all(np.isfinite(g)), text
    g = make_surface("min(x, y)").value_and_grad(xy)[1]
    np.testing.assert_array_equal(g[:2], [[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(make_surface("abs(x)").value_and_grad(xy)[1][0], [0, 0])
    # A cone tip (0/0 in the exact formula) reads as the subgradient 0, not nan.
    np.testing.assert_array_equal(make_surface("hypot(x, y)").value_and_grad(xy)[1][0], [0, 0])
    np.testing.assert_array_equal(preset_surface("ackley").value_and_grad(xy)[1][0], [0, 0])


def test_data_symbols_only_in_data_fit() -> None:
    with pytest.raises(ExpressionError, match="unknown name 'u'"):
        make_surface("x*u")


def test_surface_is_immutable() -> None:
    surface = preset_surface("bowl")
    with pytest.raises(dataclasses.FrozenInstanceError):
        surface.name = "other"  # type: ignore[misc]


def test_grid_shapes() -> None:
    surface = preset_surface("rosenbrock")
    xs, ys, z = surface.grid(30, 20)
    assert xs.shape == (30,) and ys.shape == (20,) and z.shape == (30, 20)
    assert xs[0] == -2 and xs[-1] == 2 and ys[0] == -1 and ys[-1] == 3
    assert z[10, 5] == surface.value(np.array([[xs[10], ys[5]]]))[0]
    _, _, z2 = preset_surface("line_fit").grid(7, 5, (-1, 1, -1, 1))
    assert z2.shape == (7, 5)


def test_presets_metadata() -> None:
    expected = [
        "bowl",
        "rosenbrock",
        "beale",
        "himmelblau",
        "rastrigin",
        "ackley",
        "booth",
        "goldstein_price",
        "six_hump_camel",
        "saddle",
        "monkey_saddle",
        "two_wells",
        "sigmoid_neuron",
        "sigmoid_neuron_6",
        "line_fit",
        "logistic_regression",
    ]
    assert list(PRESETS) == expected
    keys = {"lr", "momentum", "beta1", "beta2", "eps", "alpha", "rho", "weight_decay"}
    for preset in PRESETS.values():
        surface = preset_surface(preset.name)
        assert surface.height == preset.height in ("linear", "log1p")
        xmin, xmax, ymin, ymax = preset.domain
        for x, y, f in preset.minima:
            assert xmin <= x <= xmax and ymin <= y <= ymax
            value, grad = surface.value_and_grad(np.array([[x, y]]))
            assert value[0] == pytest.approx(f, abs=1e-4), preset.name
            assert np.abs(grad).max() < 1e-3, preset.name
        for x, y in preset.starts:
            assert xmin <= x <= xmax and ymin <= y <= ymax
        for hyper in preset.suggested.values():
            assert set(hyper) <= keys
        assert surface.n_rows == len(preset.data)
        assert preset.data_fit == bool(preset.data)


def test_surface_from_spec() -> None:
    rosen = surface_from_spec(SurfaceSpec(preset="rosenbrock"))
    assert rosen.name == "rosenbrock" and rosen.minima == ((1.0, 1.0, 0.0),)
    assert rosen.params == {"a": 1.0, "b": 100.0} and rosen.height == "log1p"
    assert surface_from_spec(SurfaceSpec(preset="rosenbrock")) is rosen  # cached
    moved = surface_from_spec(SurfaceSpec(preset="rosenbrock", params={"a": 2.0}))
    assert moved.value(np.array([[2.0, 4.0]]))[0] == 0 and moved.minima == ()
    custom = surface_from_spec(SurfaceSpec(preset=None, expression="x^2 + y^2"))
    assert custom.name == "custom" and custom.domain == (-5, 5, -5, 5)
    framed = surface_from_spec(SurfaceSpec(preset="bowl", domain=(-1, 1, -2, 2), height="log1p"))
    assert framed.domain == (-1, 1, -2, 2) and framed.height == "log1p"
    edited = surface_from_spec(SurfaceSpec(preset="sigmoid_neuron", expression="(x*u + y - v)^2"))
    assert edited.n_rows == 2 and edited.title.endswith("(edited)")
    with pytest.raises(UnknownPresetError, match="unknown preset 'nope'") as info:
        surface_from_spec(SurfaceSpec(preset="nope"))
    assert isinstance(info.value, StudioError)
    with pytest.raises(ExpressionError, match="unknown name 'z' at column 5"):
        surface_from_spec(SurfaceSpec(preset=None, expression="x + z"))


def test_latex() -> None:
    assert (
        to_latex(parse_expression("sigmoid(x) + abs(y)"))
        == r"\left|y\right| + \sigma\left(x\right)"
    )
