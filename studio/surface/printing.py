"""Canonical text and LaTeX for expressions: labels, the info panel, export titles.

The plain form is written in the studio's own language (`^` for powers, `e` and `pi`,
`abs`, `sigmoid`, ...), so `parse_expression(pretty(expr))` gives the same expression back.
"""

from __future__ import annotations

import sympy
from sympy.printing.str import StrPrinter


class _LanguagePrinter(StrPrinter):
    """sympy's str printer, speaking the studio's expression language."""

    def _print_Exp1(self, expr: sympy.Expr) -> str:
        return "e"

    def _print_Pi(self, expr: sympy.Expr) -> str:
        return "pi"

    def _print_Abs(self, expr: sympy.Expr) -> str:
        return f"abs({self._print(expr.args[0])})"


_PRINTER = _LanguagePrinter()


def pretty(expr: sympy.Expr) -> str:
    """Plain text that round-trips through the parser, e.g. `(1 - x)^2 + 100*(y - x^2)^2`."""
    return _PRINTER.doprint(expr).replace("**", "^")


def to_latex(expr: sympy.Expr) -> str:
    """LaTeX for the info panel and export titles (our functions print as σ, |z|, min...)."""
    return sympy.latex(expr)
