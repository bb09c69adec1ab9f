"""Exact gradients and fast vectorised NumPy functions from a parsed expression.

`lambdify` is safe here because every symbol and function in the expression came from the
parser's whitelist. One generated function returns f and both partial derivatives with
common subexpressions shared (`cse=True`): the engine calls it every step for up to 10,000
balls, and sharing e.g. `exp(-...)` between f and ∇f roughly halves the work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from studio.surface.errors import ExpressionError
from studio.surface.functions import NUMPY_NAMESPACE

NumericFunction = Callable[..., list[Any]]

# The names NumPyPrinter's code uses (`numpy.sin`, `functools.reduce` for min/max, `I`),
# given directly: `modules="numpy"` would run `from numpy import *` once per process, which
# imports numpy.f2py, numpy.testing and unittest and costs ~0.15 s of the studio's start-up.
_MODULES = [NUMPY_NAMESPACE, {"numpy": np, "functools": functools, "I": 1j}]


class _Printer(NumPyPrinter):
    """NumPyPrinter writing every Float with all its digits: sympy's own form keeps 15
    significant digits, which would round a folded constant away from its double."""

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))


def _printer() -> NumPyPrinter:
    """The printer lambdify would make for "numpy", our functions called by name."""
    return _Printer(
        {
            "allow_unknown_functions": True,
            "inline": True,
            "user_functions": {name: name for name in NUMPY_NAMESPACE},
        }
    )


def fold_constants(expr: sympy.Expr) -> sympy.Expr:
    """Every constant sub-expression other than a plain number (`log(2)`, `sqrt(3)/2`,
    `sigmoid(0)^2 + ...`) replaced by its float value.

    The generated code then computes a constant once, as one literal, instead of on every
    call; and the printer has no constant calls left to order by value. Integers and
    rationals stay exact (`x**2` must stay an integer power, which NumPy squares).
    A constant whose value is not a finite real number is left as it is.
    """
    memo: dict[sympy.Expr, sympy.Expr] = {}

    def fold(node: sympy.Expr) -> sympy.Expr:
        if node.is_Atom:
            return node
        done = memo.get(node)
        if done is not None:
            return done
        out = node
        if node.is_number:
            value = _float_value(node)
            if value is not None:
                out = sympy.Float(value)
        if out is node:
            args = tuple(fold(a) for a in node.args)
            if args != node.args:
                out = node.func(*args)
        memo[node] = out
        return out

    return fold(expr)


def _float_value(constant: sympy.Expr) -> float | None:
    """The double nearest to a constant expression, or None when it is not a finite real."""
    try:
        value = complex(constant.evalf(20))
    except (TypeError, ValueError, ArithmeticError):
        return None
    if value.imag != 0 or not np.isfinite(value.real):
        return None
    return value.real


def gradient(expr: sympy.Expr, variables: Sequence[sympy.Symbol]) -> tuple[sympy.Expr, ...]:
    """Exact partial derivatives; refuses anything sympy cannot differentiate in closed form.

    Our own functions (abs, min, max, sign, sigmoid, softplus) differentiate to finite
    subgradients; a `DiracDelta` (from sympy's own `sign`, which only appears after sympy
    rewrote e.g. sqrt(x^2) to |x|) is zero almost everywhere and is dropped.
    """
    try:
        parts = tuple(sympy.diff(expr, v) for v in variables)
        parts = tuple(p.replace(sympy.DiracDelta, lambda *a: sympy.Integer(0)) for p in parts)
    except (RecursionError, MemoryError):
        raise ExpressionError("expression too complex to differentiate") from None
    for part in parts:
        if part.has(sympy.Derivative, sympy.Subs, sympy.I, sympy.zoo, sympy.nan):
            raise ExpressionError("cannot differentiate this expression exactly")
    return parts


def compile_numeric(
    outputs: Sequence[sympy.Expr], arguments: Sequence[sympy.Symbol]
) -> NumericFunction:
    """One NumPy function `(*arguments) -> [outputs...]` with shared subexpressions."""
    try:
        return sympy.lambdify(
            list(arguments),
            [_float_big_integers(fold_constants(e)) for e in outputs],
            modules=_MODULES,
            printer=_printer(),
            cse=True,
        )
    except (RecursionError, MemoryError):
        raise ExpressionError("expression too complex to compile") from None


def _float_big_integers(expr: sympy.Expr) -> sympy.Expr:
    """Integers beyond int64 as floats: the printer writes them as Python ints, which NumPy
    ufuncs refuse (`log(1e20)` would print as numpy.log(100000000000000000000))."""
    big = {i: sympy.Float(i) for i in expr.atoms(sympy.Integer) if abs(i) >= 2**63}
    return expr.xreplace(big) if big else expr


def generated_source(function: NumericFunction) -> str | None:
    """The source lambdify wrote for `function` (what the disk cache stores), or None."""
    import inspect

    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return None
