"""The expression language: what it accepts, how it reports errors, and that it runs nothing."""

from __future__ import annotations

import ast
import builtins
import math
import re
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import studio.surface
from studio.errors import StudioError
from studio.surface import ExpressionError, make_surface, parse_expression, pretty

X, Y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)


def value_at(text: str, x: float, y: float, params: dict[str, float] | None = None) -> float:
    return float(make_surface(text, params).value(np.array([[x, y]]))[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^2 + 10y^2", lambda x, y: x**2 + 10 * y**2),
        ("(1-x)^2 + 100(y-x^2)^2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
        ("sin(x)*cos(y) + 0.1(x^2+y^2)", lambda x, y: np.sin(x) * np.cos(y) + 0.1 * (x**2 + y**2)),
        ("2x", lambda x, y: 2 * x),
        ("3(x+1)", lambda x, y: 3 * (x + 1)),
        ("1e-3x + 2e", lambda x, y: 1e-3 * x + 2 * np.e),
        ("x**2 - -y", lambda x, y: x**2 + y),
        ("-x^2", lambda x, y: -(x**2)),
        ("2^-1 * x", lambda x, y: 0.5 * x),
        ("(x+1)(y-1)", lambda x, y: (x + 1) * (y - 1)),
        ("pi*x + e", lambda x, y: np.pi * x + np.e),
        ("log2(x) + log10(y) + log(x*y)", lambda x, y: np.log2(x) + np.log10(y) + np.log(x * y)),
        (
            "asin(x/4) + acos(y/4) + atan(x) + atan2(y, x)",
            lambda x, y: np.arcsin(x / 4) + np.arccos(y / 4) + np.arctan(x) + np.arctan2(y, x),
        ),
        (
            "sinh(x) + cosh(y) + tanh(x*y) + tan(x/3)",
            lambda x, y: np.sinh(x) + np.cosh(y) + np.tanh(x * y) + np.tan(x / 3),
        ),
        (
            "sqrt(x) + abs(y) + sign(y) + hypot(x, y)",
            lambda x, y: np.sqrt(x) + abs(y) + np.sign(y) + np.hypot(x, y),
        ),
        (
            "sigmoid(x) + softplus(y) + min(x, y) + max(x, y) + exp(-x)",
            lambda x, y: (
                1 / (1 + np.exp(-x)) + np.log1p(np.exp(y)) + min(x, y) + max(x, y) + np.exp(-x)
            ),
        ),
    ],
)
def test_language_computes_what_it_says(text: str, expected: object) -> None:
    for x, y in [(1.3, 0.7), (2.1, 1.9), (0.4, 2.6)]:
        assert value_at(text, x, y) == pytest.approx(expected(x, y), rel=1e-12)  # type: ignore[operator]


def test_declared_parameters() -> None:
    text = "(a - x)^2 + b(y - x^2)^2"
    assert value_at(text, 0.5, 2.0, {"a": 1, "b": 100}) == pytest.approx(0.25 + 100 * 1.75**2)
    assert value_at(text, 0.5, 2.0, {"a": 2, "b": 1}) == pytest.approx(1.5**2 + 1.75**2)
    with pytest.raises(ExpressionError, match="unknown name 'a' at column 2"):
        parse_expression(text)
    for bad in (
        {"x": 1.0},
        {"sin": 1.0},
        {"pi": 3.0},
        {"a b": 1.0},
        {"lambda": 1.0},
        {"a": float("nan")},
        {"a": "1"},
    ):
        with pytest.raises(ExpressionError):
            parse_expression("x", bad)  # type: ignore[arg-type]


def test_floats_are_exact_rationals() -> None:
    assert parse_expression("0.1x") == X / 10
    assert parse_expression("1e-3") == sympy.Rational(1, 1000)


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("x + z", "unknown name 'z'", 5),
        ("foo(x)", "unknown function 'foo'", 1),
        ("sin(x + 1", "expected ')'", 10),
        ("x)", "unmatched ')'", 2),
        ("2x + 3y + q", "unknown name 'q'", 11),
        ("x^2 ^ 2 + w", "unknown name 'w'", 11),
        ("10y^2 + 3(x+1) + bad", "unknown name 'bad'", 18),
        ("x +", "unexpected end of expression", 4),
        ("x $ y", "unexpected character '$'", 3),
        ("x(y)", None, None),
        ("sin", "function 'sin' needs arguments in parentheses", 1),
        ("hypot(x)", "'hypot' takes 2 arguments, got 1", 1),
        ("x + sin(1, 2)", "'sin' takes 1 argument, got 2", 5),
        ("y if x else 1", "unknown name 'if'", 3),
        ("x.real", "'.' is only allowed in numbers", 1),
        ("1/0 + x", "division by zero", 1),
        ("x + sqrt(-1)", "'sqrt' is undefined here", 5),
        ("x + 1e999", "number too large", 5),
    ],
)
def test_error_messages_and_columns(text: str, message: str | None, column: int | None) -> None:
    if message is None:  # a name before '(' is a product, not a call
        assert parse_expression(text) == X * Y
        return
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert info.value.message == message
    assert info.value.column == column
    assert str(info.value) == f"{message} at column {column}"
    assert "\n" not in str(info.value)
    assert isinstance(info.value, StudioError)


def test_exponent_bounds() -> None:
    with pytest.raises(ExpressionError, match="exponent too large"):
        parse_expression("9**9**9**9")
    with pytest.raises(ExpressionError, match="exponent too large"):
        parse_expression("x^1001")
    with pytest.raises(ExpressionError, match="number too large"):
        parse_expression("10^400")
    with pytest.raises(ExpressionError, match="exponent too large"):
        parse_expression("a^a^a", {"a": 9})
    assert parse_expression("x^1000") == X**1000


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("(0.999999^1000)^1000*x", math.exp(-1.0000005)),  # exact: a 20-million-bit rational
        ("0.999999^1000*x", 0.999999**1000),  # exact: 6000 digits, unprintable
        ("1.000001^999*x", 1.000001**999),
        ("log(1e20)*x", math.log(1e20)),  # an integer beyond int64 in a ufunc
    ],
)
def test_huge_exact_constants_become_their_float(text: str, value: float) -> None:
    start = time.perf_counter()
    surface = make_surface(text)
    f, _ = surface.value_and_grad(np.array([[1.0, 0.0]]))
    assert f[0] == pytest.approx(value, rel=1e-9)
    assert time.perf_counter() - start < 2.0  # a guard against the hang, not a benchmark


HOSTILE = [
    "__import__('os')",
    '__import__("os").system("true")',
    "().__class__",
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "9**9**9**9",
    "9^9^9^9",
    "x +",
    "foo(x)",
    '"a"*99',
    "lambda: 1",
    "lambda x: x",
    "f'{x}'",
    'f"{1}"',
    "[x]",
    "{x}",
    "{1: x}",
    "x if y else 1",
    "1e999",
    "-1e999",
    "1" * 400,
    "(" * 5000 + "x" + ")" * 5000,
    "(" * 49 + "x" + ")" * 49,
    "-" * 499 + "x",
    "x" * 100_000,
    "x**" * 120 + "x",
    "+",
    "",
    "   ",
    "\n",
    "x\ny",
    "x;y",
    "x = 1",
    "x := 1",
    "x == y",
    "x < y",
    "not x",
    "x and y",
    "x @ y",
    "x // y",
    "x % y",
    "x | y",
    "~x",
    "x[0]",
    "x.y",
    "x..y",
    "1.2.3",
    "0x10",
    "0b1",
    "2j",
    "1_000",
    "\\x",
    "\x00",
    "x\u200b",
    "π",
    "x²",
    "exec('1')",
    "eval('1')",
    "open('/tmp/x', 'w')",
    "globals()",
    "sin(x, y=1)",
    "min(*x)",
    "sin()",
    "min(x)",
    "print",
    "None",
    "True",
    "x(",
    ")",
    "()",
    "(,)",
    "sin(x))",
    "exp(exp(exp(9)))",
    "sin(exp(exp(9)))",
    "tan(pi/2)",
    "log(0)",
    "asin(2)",
    "sqrt(-x^2)",
    "(-8)^(1/3)",
    "0^-1",
    "x/0",
    "1e308*1e308",
    "10^300*10^300*x",
    "x^-1001",
    "atan2(0, 0)",
    "sin(" * 60 + "x" + ")" * 60,
    "exp(" * 40 + "x" + ")" * 40,
    "+".join(["x"] * 300),
    "*".join(["x"] * 250),
    "x" + "^x" * 200,
    "min(x, max(y, min(x, max(y, min(x, max(y, x))))))",
    "sigmoid(softplus(sign(abs(x))))",
    "y" + "*(1+y)" * 70,
]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("xyuvabe2190.+-*/^(), sincoqrtlgmpd_e")), max_size=60))
def test_fuzz_never_raises_anything_else(text: str) -> None:
    _parse_or_reject(text)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_rejected_or_parsed_quickly(text: str) -> None:
    start = time.perf_counter()
    _parse_or_reject(text)
    # A guard against hangs (sympy computing 9**9**9 would never return), not a benchmark.
    assert time.perf_counter() - start < 2.0


def _parse_or_reject(text: str) -> None:
    try:
        surface = make_surface(text)
    except ExpressionError as exc:
        assert exc.message and "\n" not in str(exc)
        assert exc.column is None or 1 <= exc.column <= len(text) + 1
    else:
        f, g = surface.value_and_grad(np.array([[0.3, -0.7], [0.0, 0.0]]))
        assert f.shape == (2,) and g.shape == (2, 2) and f.dtype == np.float64


CANARY_HITS: list[str] = []


def canary() -> int:
    CANARY_HITS.append("called")
    return 1


def test_nothing_is_ever_executed(tmp_path: Path) -> None:
    """Text that would call a function, write a file or set a global, if it were run."""
    target = tmp_path / "pwned"
    forbidden: list[object] = []

    def trap(*args: object, **kwargs: object) -> None:
        forbidden.append(args)
        raise AssertionError("user text reached a code runner")

    attempts = [
        "canary()",
        "canary",
        f"open('{target}', 'w').write('x')",
        f"__import__('pathlib').Path('{target}').touch()",
        "globals().update(canary=1)",
        "CANARY_HITS.append(1)",
        "x + canary()",
        "setattr(x, 'y', 1)",
    ]
    # Booby-trap every code runner only around the parser calls (pytest itself needs them).
    with ExitStack() as stack:
        for name in ("eval", "exec"):
            stack.enter_context(mock.patch.object(builtins, name, trap))
        stack.enter_context(
            mock.patch.object(builtins, "compile", _ast_only_compile(builtins.compile, trap))
        )
        stack.enter_context(
            mock.patch.object(builtins, "__import__", _import_guard(builtins.__import__, trap))
        )
        outcomes = []
        for text in attempts:
            try:
                parse_expression(text)
                outcomes.append("parsed")
            except ExpressionError:
                outcomes.append("rejected")
        # Valid formulas parse with every code runner booby-trapped, too.
        valid = parse_expression("(1-x)^2 + 100(y-x^2)^2 + sigmoid(x) + min(x, y)")
    assert outcomes == ["rejected"] * len(attempts)
    assert valid is not None
    assert not target.exists()
    assert CANARY_HITS == []
    assert forbidden == []


def _ast_only_compile(real: object, trap: object) -> object:
    """`ast.parse` compiles to a tree only (PyCF_ONLY_AST); compiling to code is a trap."""

    def guarded(
        source: object, filename: object, mode: str, flags: int = 0, *args: object, **kwargs: object
    ) -> object:
        if not flags & ast.PyCF_ONLY_AST:
            return trap(source)  # type: ignore[operator]
        return real(source, filename, mode, flags, *args, **kwargs)  # type: ignore[operator]

    return guarded


def _import_guard(real: object, trap: object) -> object:
    def guarded(name: str, *args: object, **kwargs: object) -> object:
        if name in ("os", "subprocess", "pathlib", "shutil"):
            return trap(name)  # type: ignore[operator]
        return real(name, *args, **kwargs)  # type: ignore[operator]

    return guarded


# The one compile of code: stored generated code, after `stored._validated` checked its
# every node (tests/surface/test_stored.py tries what it refuses). Never user text.
VALIDATED_COMPILE = ("stored.py", 'compile(tree, "<studio generated>", "exec")')


def test_source_has_no_code_runners() -> None:
    root = Path(studio.surface.__file__).parent
    pattern = re.compile(r"\b(eval|exec|sympify|parse_expr)\b")
    for path in root.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name == VALIDATED_COMPILE[0]:
            assert text.count(VALIDATED_COMPILE[1]) == 1
            text = text.replace(VALIDATED_COMPILE[1], "")
        assert not pattern.search(text), path.name


def test_non_text_input() -> None:
    with pytest.raises(ExpressionError):
        parse_expression(None)  # type: ignore[arg-type]


def test_pretty_is_the_language() -> None:
    assert pretty(parse_expression("x^2 + 10y^2")) == "x^2 + 10*y^2"
    assert pretty(parse_expression("e^x + pi + abs(x)")) == "exp(x) + abs(x) + pi"
