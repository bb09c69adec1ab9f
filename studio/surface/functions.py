"""The functions the expression language knows, as sympy builders and float shadows.

Each function has three faces: a sympy builder (for exact derivatives and printing), a
NumPy implementation (what `lambdify` calls), and a plain-float "shadow" the parser uses to
compute constant sub-expressions cheaply, so that `exp(exp(99))` or `sqrt(-1)` is refused
at parse time instead of becoming a huge or complex sympy number.

`abs`, `sign`, `min`, `max`, `sigmoid`, `softplus` and `atan2` are our own sympy functions rather
than sympy's `Abs`/`Min`/`Max`: their derivatives are written here (sign, a half-step
expressed with sign, sigmoid) so gradients never contain `Derivative`, `DiracDelta`,
`Heaviside` or `re`/`im` terms, and stay finite everywhere (the subgradient at a kink).
Their NumPy forms are numerically stable (sigmoid through tanh, softplus via logaddexp).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from studio.surface import numeric
from studio.surface.syntax import SHADOWS


class _Named(sympy.Function):
    """A sympy function that prints under its language name (`abs`, not `StudioAbs`)."""

    language_name = ""
    latex_name = ""
    # The mpmath function `evalf` computes a constant call with (`sigmoid(0)` -> 0.5).
    # Without it a constant call stays symbolic although `is_number` is true, and sympy's
    # printers, which order a sum's terms by calling `complex()` on its numbers, fall back
    # to expanding `re`/`im` of the call: exponential in the nesting (seconds to forever for
    # `tanh(tanh(hypot(log2(2.96), sigmoid(0)))) + x`).
    mpmath_function: Callable[..., Any] | None = None

    def _eval_mpmath(self) -> tuple[Callable[..., Any] | None, tuple[sympy.Expr, ...]]:
        return type(self).mpmath_function, self.args

    def _eval_is_extended_real(self) -> bool | None:
        """Real for real arguments, like every function of the language (so sympy never
        splits a call into real and imaginary parts)."""
        if all(a.is_extended_real for a in self.args):
            return True
        return None

    def _sympystr(self, printer: StrPrinter) -> str:
        args = ", ".join(printer._print(a) for a in self.args)
        return f"{self.language_name}({args})"

    def _latex(self, printer: LatexPrinter, exp: str | None = None) -> str:
        args = ", ".join(printer._print(a) for a in self.args)
        power = f"^{{{exp}}}" if exp is not None else ""
        return rf"{self.latex_name}{power}\left({args}\right)"


class StudioSign(_Named):
    """sign(z): -1, 0 or 1; derivative 0 (its jump is not a gradient a ball can use)."""

    nargs = 1
    language_name = "sign"
    latex_name = r"\operatorname{sign}"
    mpmath_function = staticmethod(mpmath.sign)

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.Integer(0)


class StudioAbs(_Named):
    """|z| with derivative sign(z): the subgradient 0 at the kink, never nan."""

    nargs = 1
    language_name = "abs"
    mpmath_function = staticmethod(mpmath.fabs)

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return StudioSign(self.args[0])

    def _latex(self, printer: LatexPrinter, exp: str | None = None) -> str:
        power = f"^{{{exp}}}" if exp is not None else ""
        return rf"\left|{printer._print(self.args[0])}\right|{power}"


def _half_step(z: sympy.Expr) -> sympy.Expr:
    """H(z) with H(0) = 1/2, written in the language itself: (1 + sign(z))/2."""
    return (1 + StudioSign(z)) / 2


class StudioMin(_Named):
    """min(a, b); at a tie each argument gets half the gradient."""

    nargs = 2
    language_name = "min"
    latex_name = r"\min"
    mpmath_function = staticmethod(lambda a, b: mpmath.mpf(min(a, b)))

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        a, b = self.args
        return _half_step(b - a) if argindex == 1 else _half_step(a - b)


class StudioMax(_Named):
    """max(a, b); at a tie each argument gets half the gradient."""

    nargs = 2
    language_name = "max"
    latex_name = r"\max"
    mpmath_function = staticmethod(lambda a, b: mpmath.mpf(max(a, b)))

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        a, b = self.args
        return _half_step(a - b) if argindex == 1 else _half_step(b - a)


class StudioSigmoid(_Named):
    """The logistic function 1/(1 + e^-z); derivative σ(z)(1 − σ(z))."""

    nargs = 1
    language_name = "sigmoid"
    latex_name = r"\sigma"
    mpmath_function = staticmethod(lambda z: 1 / (1 + mpmath.exp(-z)))

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        s = StudioSigmoid(self.args[0])
        return s * (1 - s)


class StudioSoftplus(_Named):
    """log(1 + e^z); derivative σ(z)."""

    nargs = 1
    language_name = "softplus"
    latex_name = r"\operatorname{softplus}"
    mpmath_function = staticmethod(lambda z: mpmath.log1p(mpmath.exp(z)))

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return StudioSigmoid(self.args[0])


class StudioAtan2(_Named):
    """atan2(y, x), the angle of the point (x, y). sympy's own atan2 rewrites itself into
    complex logarithms when it cannot tell the sign of a constant argument (atan2(5,
    sigmoid(2))); this one stays real and differentiates directly."""

    nargs = 2
    language_name = "atan2"
    latex_name = r"\operatorname{atan2}"
    mpmath_function = staticmethod(mpmath.atan2)

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        y, x = self.args
        return x / (x**2 + y**2) if argindex == 1 else -y / (x**2 + y**2)


NUMPY_NAMESPACE = numeric.NUMPY_NAMESPACE
"""What `lambdify` resolves our own functions to (sympy's are printed as numpy.*)."""


@dataclass(frozen=True)
class FunctionRule:
    """How one language function is built in sympy and computed on plain floats."""

    arity: int
    build: Callable[..., sympy.Expr]
    number: Callable[..., float]


_BUILDERS: dict[str, Callable[..., sympy.Expr]] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "exp": sympy.exp,
    "log": sympy.log,
    "log2": lambda z: sympy.log(z) / sympy.log(2),
    "log10": lambda z: sympy.log(z) / sympy.log(10),
    "sqrt": sympy.sqrt,
    "abs": StudioAbs,
    "sign": StudioSign,
    "sigmoid": StudioSigmoid,
    "softplus": StudioSoftplus,
    "min": StudioMin,
    "max": StudioMax,
    "hypot": lambda a, b: sympy.sqrt(a**2 + b**2),
    "atan2": StudioAtan2,
}

# The names, their order and their float forms are the language's (studio.surface.syntax).
FUNCTIONS: dict[str, FunctionRule] = {
    name: FunctionRule(shadow.arity, _BUILDERS[name], shadow.number)
    for name, shadow in SHADOWS.items()
}
"""Every callable name of the language, in the order the help text lists them."""
