"""Typed formula text -> sympy expression, without ever running the text.

The text goes through three guarded stages:

The language's rules, the scanner and the tree walk live in `studio.surface.syntax`
(sympy-free); this module gives the walk its sympy algebra.

1. `_rewrite`: a small scanner (ASCII letters, digits and `+-*/^().,` only) that replaces
   `^` by `**` and inserts `*` for implicit products (`2x`, `3(x+1)`, `10y^2`), keeping a
   map from every character of the rewritten text back to the user's column. Our own scanner
   rather than the `tokenize` module, because Python reads `2e`, `0x`, `2j` and `1_0` as
   (bad) number literals where a formula means `2*e`, `0*x`, `2*j`, `1*_0`.
2. `ast.parse` of the rewritten text as a single expression statement.
3. `_Builder` (with `_SympyAlgebra` here), a walk over the tree that accepts only
   whitelisted node types and names and builds the sympy expression node by node. Each
   node also carries a plain-float "shadow" when it is constant, which bounds what sympy
   is asked to do: no constant beyond 1e300, no numeric exponent beyond 1000 in
   magnitude, no complex or undefined constant (`9^9^9^9`, `exp(exp(99))`, `sqrt(-1)`,
   `1/0` are errors in microseconds, not hangs).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import sympy

from studio.surface.functions import FUNCTIONS
from studio.surface.syntax import (
    CONSTANT_VALUES,
    MAX_DEPTH,
    MAX_EXACT_BITS,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_MAGNITUDE,
    MAX_NODES,
    MAX_PAREN_DEPTH,
    RESERVED,
    check_params,
    walk,
)

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)
U = sympy.Symbol("u", real=True)
V = sympy.Symbol("v", real=True)
VARIABLES: dict[str, sympy.Symbol] = {"x": X, "y": Y}
DATA_VARIABLES: dict[str, sympy.Symbol] = {"u": U, "v": V}
CONSTANTS: dict[str, tuple[sympy.Expr, float]] = {
    "pi": (sympy.pi, CONSTANT_VALUES["pi"]),
    "e": (sympy.E, CONSTANT_VALUES["e"]),
}
_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I)
_SYMBOLS = {**VARIABLES, **DATA_VARIABLES}


def parse_expression(
    text: str, params: Mapping[str, float] | None = None, *, data: bool = False
) -> sympy.Expr:
    """Parse a formula in x and y (and u, v when `data`) into a sympy expression.

    Declared `params` stay symbols in the result (so a label can show `b*(y - x^2)^2`);
    their values bound the constants like any literal. Raises `ExpressionError` for any bad
    input, and nothing else.
    """
    return walk(text, params, data, _SympyAlgebra())


def param_symbol(name: str) -> sympy.Symbol:
    """The sympy symbol a declared parameter becomes (real, like x and y)."""
    return sympy.Symbol(name, real=True)


def exact_number(value: float) -> sympy.Expr:
    """A float as the exact rational it was written as (0.1 -> 1/10, not 0.1000000000000000055)."""
    if float(value).is_integer():
        return sympy.Integer(int(value))
    return sympy.Rational(repr(float(value)))


class _SympyAlgebra:
    """The walk's nodes as sympy expressions (`studio.surface.syntax.walk`)."""

    def number(self, raw: int | float) -> sympy.Expr:
        return sympy.Integer(raw) if isinstance(raw, int) else exact_number(raw)

    def variable(self, name: str) -> sympy.Expr:
        return _SYMBOLS[name]

    def constant(self, name: str) -> sympy.Expr:
        return CONSTANTS[name][0]

    def param(self, name: str) -> sympy.Expr:
        return param_symbol(name)

    def neg(self, a: sympy.Expr) -> sympy.Expr:
        return -a

    def arith(self, op: ast.operator, a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Div):
            return a / b
        return a * b

    def power(
        self, a: sympy.Expr, b: sympy.Expr, exponent: float | None, number: float | None
    ) -> sympy.Expr:
        if number is not None and exponent is not None:
            # An integer power of a rational is computed eagerly by sympy: bound its size
            # before asking (the result's bits are about |b| times the base's). Only a
            # literal exponent: a parameter stays a symbol whatever its value, so the
            # expression (and its compiled code) is the same for every value.
            bits = abs(exponent) * _bits(a) if a.is_Rational else 0
            if b.is_Number and float(exponent).is_integer() and bits > MAX_EXACT_BITS:
                return exact_number(number)
        return sympy.Pow(a, b)

    def call(self, name: str, args: list[sympy.Expr]) -> sympy.Expr:
        return FUNCTIONS[name].build(*args)

    def undefined(self, a: sympy.Expr) -> bool:
        return bool(a.has(*_UNDEFINED))

    def settle(self, a: sympy.Expr, number: float) -> sympy.Expr:
        """A rational constant whose exact form would be too long to print or compute with
        becomes its float value."""
        too_big = bool(a.is_Rational) and _bits(a) > MAX_EXACT_BITS
        return exact_number(number) if too_big else a


def _bits(rational: sympy.Rational) -> int:
    return max(abs(rational.p).bit_length(), rational.q.bit_length())


__all__ = [
    "CONSTANTS",
    "DATA_VARIABLES",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_MAGNITUDE",
    "MAX_NODES",
    "MAX_PAREN_DEPTH",
    "RESERVED",
    "U",
    "V",
    "VARIABLES",
    "X",
    "Y",
    "check_params",
    "exact_number",
    "param_symbol",
    "parse_expression",
]
