"""What compiling a formula costs: constant calls evaluate, parameters never recompile.

The constant-call formulas once took seconds to forever (sympy's printers ordered sums by
calling `complex()` on unevaluated `sigmoid(0)`, expanding re/im exponentially in the
nesting). They run in a child process with a timeout, so a regression fails the test instead
of hanging the suite; no test here asserts a speed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from studio.scene import SurfaceSpec
from studio.surface import ExpressionError, make_data_surface, make_surface, surface_from_spec
from studio.surface.functions import FUNCTIONS
from studio.surface.surface import compile_stats

ISSUE_FORMULAS = [
    "tanh(hypot(log2(2.960155), sigmoid(0))) + x",
    "tanh(tanh(hypot(log2(2.960155), sigmoid(0)))) + x",
]
HANG_TIMEOUT_S = 20  # the nested formula above never finished in 120 s before the fix


def _call(name: str) -> str:
    """A constant call of function `name` on constants that keep every function defined."""
    return (
        f"{name}(sigmoid(0.3))"
        if FUNCTIONS[name].arity == 1
        else (f"{name}(sigmoid(0.3), softplus(-1))")
    )


def _call_value(name: str) -> float:
    rule = FUNCTIONS[name]
    s = FUNCTIONS["sigmoid"].number(0.3)
    args = (s,) if rule.arity == 1 else (s, FUNCTIONS["softplus"].number(-1.0))
    return float(rule.number(*args))


def _nested_formulas() -> dict[str, tuple[str, float, float, float]]:
    """Per function: a formula nesting its constant call, and f, ∂f/∂x, ∂f/∂y at (1, 2)."""
    out: dict[str, tuple[str, float, float, float]] = {}
    for name in FUNCTIONS:
        c = _call_value(name)
        inner = math.tanh(math.tanh(math.hypot(c, 0.5)))
        sp = FUNCTIONS["softplus"].number(c)
        s = FUNCTIONS["sigmoid"].number(sp)
        out[f"{name}/nested"] = (
            f"tanh(tanh(hypot({_call(name)}, sigmoid(0)))) + x",
            inner + 1.0,
            1.0,
            0.0,
        )
        out[f"{name}/products"] = (
            f"{_call(name)}*x^2 + sigmoid(softplus({_call(name)}))*y",
            c + 2 * s,
            2 * c,
            s,
        )
    return out


def _compile_in_child(formulas: dict[str, str]) -> dict[str, list[float]]:
    """Compile each formula in a fresh interpreter; f, ∂f/∂x, ∂f/∂y at (1, 2) and its texts."""
    code = textwrap.dedent("""
        import json, sys
        import numpy as np
        from studio.surface import make_surface, parse_expression
        out = {}
        for key, text in json.loads(sys.stdin.read()).items():
            s = make_surface(text)
            f, g = s.value_and_grad(np.array([[1.0, 2.0]]))
            parse_expression(s.expression)  # the display text round-trips
            assert s.latex and all(s.gradient_latex)
            out[key] = [float(f[0]), float(g[0, 0]), float(g[0, 1])]
        print(json.dumps(out))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        timeout=HANG_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, list[float]] = json.loads(done.stdout)
    return result


def test_issue_formulas_compile_and_evaluate() -> None:
    values = _compile_in_child({str(i): text for i, text in enumerate(ISSUE_FORMULAS)})
    c = math.hypot(math.log2(2.960155), 0.5)
    np.testing.assert_allclose(values["0"], [math.tanh(c) + 1, 1, 0], rtol=1e-14)
    np.testing.assert_allclose(values["1"], [math.tanh(math.tanh(c)) + 1, 1, 0], rtol=1e-14)


def test_constant_calls_of_every_function_compile_and_evaluate() -> None:
    cases = _nested_formulas()
    values = _compile_in_child({key: text for key, (text, *_rest) in cases.items()})
    for key, (text, *expected) in cases.items():
        np.testing.assert_allclose(values[key], expected, rtol=1e-12, atol=1e-15, err_msg=text)


def test_constant_calls_evaluate_numerically() -> None:
    for name in FUNCTIONS:
        expr = make_surface(_call(name)).symbolic
        assert expr.is_number
        assert complex(expr) == pytest.approx(_call_value(name), rel=1e-14), name


def test_folded_constants_keep_every_digit() -> None:
    """A folded constant is the double nearest its exact value, not a 15-digit rounding."""
    surface = make_surface("x*log(3) + sqrt(2)/7")
    f, g = surface.value_and_grad(np.array([[1.0, 0.0]]))
    assert g[0, 0] == math.log(3)
    assert f[0] == pytest.approx(math.log(3) + math.sqrt(2) / 7, rel=1e-16)


ROSEN = "(a - x)^2 + b*(y - x^2)^2 + 0.000123"  # a text of its own: a cold cache entry


def test_parameter_values_never_recompile() -> None:
    before = compile_stats()["compiles"]
    surfaces = [
        make_surface(ROSEN, {"a": a, "b": b})
        for a, b in [(1.0, 100.0), (1.5, 3.0), (-2.0, 0.1), (1.0, 1e5)]
    ]
    assert compile_stats()["compiles"] == before + 1
    assert len({id(s._compiled) for s in surfaces}) == 1
    # Slider-like steps through the spec path as well (which the GUI uses).
    for b in np.linspace(0.0, 200.0, 25):
        surface_from_spec(
            SurfaceSpec(preset=None, expression=ROSEN, params={"a": 1.0, "b": float(b)})
        )
    assert compile_stats()["compiles"] == before + 1
    # Declaring a parameter the formula does not use compiles nothing either.
    make_surface(ROSEN, {"a": 1.0, "b": 2.0, "k": 3.0})
    assert compile_stats()["compiles"] == before + 1
    # The labels still show the parameters as symbols.
    assert "b" in surfaces[0].gradient_text[1]


@pytest.mark.parametrize(("a", "b"), [(1.0, 100.0), (0.3, -7.25), (2.0, 0.0)])
def test_gradients_stay_exact_with_parameters_as_arguments(a: float, b: float) -> None:
    surface = make_surface(ROSEN, {"a": a, "b": b})
    rng = np.random.default_rng(3)
    xy = rng.uniform(-2, 2, (50, 2))
    x, y = xy[:, 0], xy[:, 1]
    f, grad = surface.value_and_grad(xy)
    np.testing.assert_allclose(f, (a - x) ** 2 + b * (y - x**2) ** 2 + 0.000123, rtol=1e-13)
    np.testing.assert_allclose(
        grad[:, 0], -2 * (a - x) - 4 * b * x * (y - x**2), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(grad[:, 1], 2 * b * (y - x**2), rtol=1e-13, atol=1e-13)


def test_parameter_values_are_still_checked() -> None:
    make_surface("exp(b*x) + x", {"b": 1.0})
    with pytest.raises(ExpressionError, match="too large"):
        make_surface("exp(b) + x", {"b": 1000.0})
    with pytest.raises(ExpressionError, match="exponent too large"):
        make_surface("x^b", {"b": 5000.0})


def test_a_large_parameter_exponent_stays_a_parameter() -> None:
    """`1.5^b` keeps b a symbol whatever b is, so one compile serves b = 2 and b = 999."""
    low = make_surface("1.5^b + x", {"b": 2.0})
    high = make_surface("1.5^b + x", {"b": 999.0})
    assert low._compiled is high._compiled
    assert high.value(np.array([[0.0, 0.0]]))[0] == pytest.approx(1.5**999, rel=1e-12)
    assert low.value(np.array([[0.0, 0.0]]))[0] == 2.25


def test_data_fit_parameters_are_arguments_too() -> None:
    rows = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]])
    loss = "(x*u + y - v)^2 * w + 0.0004"
    before = compile_stats()["compiles"]
    one = make_data_surface(loss, rows, {"w": 1.0})
    two = make_data_surface(loss, rows, {"w": 2.0})
    assert compile_stats()["compiles"] == before + 1
    xy = np.array([[0.5, 0.25]])
    np.testing.assert_allclose(two.value(xy) - 0.0004, 2 * (one.value(xy) - 0.0004))
    assert r"\sum" in two.latex and "u_{i}" in two.latex
