"""The expression language's rules, without sympy: names, limits, the scanner and the tree walk.

`studio.surface.parser` builds a sympy expression with the walk below (`SympyAlgebra` there).
`check_formula` runs the same walk with no algebra at all: only the float "shadows" of the
constants, so it refuses exactly what depends on the numbers (a parameter value that makes
`exp(b)` too large, `x/b` with b = 0, a literal overflow) in microseconds and without
importing sympy. The start-up path uses it when a formula's compiled code comes from the
pregenerated table or the disk cache (docs/architecture.md#start-up): what sympy itself
refuses (an undefined constant such as `1/(x - x)`) does not depend on parameter values,
and a stored formula had passed it when it was stored.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from studio.scene import MAX_EXPRESSION
from studio.surface.errors import ExpressionError

MAX_LENGTH = MAX_EXPRESSION  # one limit for typed text and scene files
MAX_NODES = 400
MAX_DEPTH = 100
MAX_PAREN_DEPTH = 50
MAX_MAGNITUDE = 1e300
MAX_EXPONENT = 1000
# Exact constants are kept exact only while their numerator and denominator stay this small
# (a float written out in full, 5e-324, needs ~1080 bits); beyond it a constant becomes its
# float value, so `(0.999999^1000)^1000` is a number in microseconds, not a 20-million-bit
# rational that sympy computes for seconds and no printer can write out.
MAX_EXACT_BITS = 1100

VARIABLE_NAMES = ("x", "y")
DATA_NAMES = ("u", "v")
CONSTANT_VALUES: dict[str, float] = {"pi": math.pi, "e": math.e}


def _sign(z: float) -> float:
    return float((z > 0) - (z < 0))


def _sigmoid(z: float) -> float:
    return 0.5 + 0.5 * math.tanh(0.5 * z)


def _softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@dataclass(frozen=True)
class Shadow:
    """A language function's argument count and its plain-float form."""

    arity: int
    number: Callable[..., float]


SHADOWS: dict[str, Shadow] = {
    "sin": Shadow(1, math.sin),
    "cos": Shadow(1, math.cos),
    "tan": Shadow(1, math.tan),
    "asin": Shadow(1, math.asin),
    "acos": Shadow(1, math.acos),
    "atan": Shadow(1, math.atan),
    "sinh": Shadow(1, math.sinh),
    "cosh": Shadow(1, math.cosh),
    "tanh": Shadow(1, math.tanh),
    "exp": Shadow(1, math.exp),
    "log": Shadow(1, math.log),
    "log2": Shadow(1, math.log2),
    "log10": Shadow(1, math.log10),
    "sqrt": Shadow(1, math.sqrt),
    "abs": Shadow(1, abs),
    "sign": Shadow(1, _sign),
    "sigmoid": Shadow(1, _sigmoid),
    "softplus": Shadow(1, _softplus),
    "min": Shadow(2, min),
    "max": Shadow(2, max),
    "hypot": Shadow(2, math.hypot),
    "atan2": Shadow(2, math.atan2),
}
"""Every callable name of the language, in the order the help text lists them."""

RESERVED = (
    frozenset(VARIABLE_NAMES)
    | frozenset(DATA_NAMES)
    | frozenset(CONSTANT_VALUES)
    | frozenset(SHADOWS)
)

_TOKEN = re.compile(
    r"(?P<space>[ \t]+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>[-+*/^(),.])"
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

E = TypeVar("E")


class Algebra(Protocol[E]):
    """What the walk builds: sympy expressions (the parser), or nothing (`check_formula`).

    Every method receives what the walk has checked already; what it may refuse on its own
    (`undefined`) never depends on parameter values."""

    def number(self, raw: int | float) -> E: ...
    def variable(self, name: str) -> E: ...
    def constant(self, name: str) -> E: ...
    def param(self, name: str) -> E: ...
    def neg(self, a: E) -> E: ...
    def arith(self, op: ast.operator, a: E, b: E) -> E: ...
    def power(self, a: E, b: E, exponent: float | None, number: float | None) -> E: ...
    def call(self, name: str, args: list[E]) -> E: ...
    def undefined(self, a: E) -> bool: ...
    def settle(self, a: E, number: float) -> E: ...


class NoAlgebra:
    """Builds nothing: the walk checks the formula and its constants' float values."""

    def number(self, raw: int | float) -> None:
        return None

    def variable(self, name: str) -> None:
        return None

    def constant(self, name: str) -> None:
        return None

    def param(self, name: str) -> None:
        return None

    def neg(self, a: None) -> None:
        return None

    def arith(self, op: ast.operator, a: None, b: None) -> None:
        return None

    def power(self, a: None, b: None, exponent: float | None, number: float | None) -> None:
        return None

    def call(self, name: str, args: list[None]) -> None:
        return None

    def undefined(self, a: None) -> bool:
        return False

    def settle(self, a: None, number: float) -> None:
        return None


def check_params(params: Mapping[str, float] | None) -> dict[str, float]:
    """Validate declared parameter names and values; returns them as plain floats."""
    out: dict[str, float] = {}
    for name, value in (params or {}).items():
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name) or keyword.iskeyword(name):
            raise ExpressionError(f"parameter name {name!r} is not a name")
        if name in RESERVED:
            raise ExpressionError(f"parameter name '{name}' is reserved")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"parameter '{name}' must be a number")
        number = float(value)
        if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
            raise ExpressionError(f"parameter '{name}' must be a finite number")
        out[name] = number
    return out


def walk(text: str, params: Mapping[str, float] | None, data: bool, algebra: Algebra[E]) -> E:
    """Scan, parse and walk a formula in x and y (and u, v when `data`), building with
    `algebra`. Raises `ExpressionError` for any bad input, and nothing else."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text")
    checked = check_params(params)
    names = VARIABLE_NAMES + DATA_NAMES if data else VARIABLE_NAMES
    rewritten, origin = _rewrite(
        text, frozenset(names) | frozenset(CONSTANT_VALUES) | frozenset(checked)
    )
    try:
        tree = ast.parse(rewritten)
    except SyntaxError as exc:
        raise _syntax_error(exc, text, origin) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression nested too deeply") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        raise ExpressionError("not a single expression")
    builder = _Builder(origin, frozenset(names), checked, algebra)
    try:
        value = builder.build(tree.body[0].value, 0)
    except RecursionError:
        raise ExpressionError("expression nested too deeply") from None
    except MemoryError:
        raise ExpressionError("expression too large") from None
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
        # sympy refusing a construction is still bad input, not a bug
        raise ExpressionError(f"cannot use this expression ({type(exc).__name__})") from None
    return value.expr


def check_formula(text: str, params: Mapping[str, float] | None, *, data: bool = False) -> None:
    """Everything the parser refuses that does not need sympy: the syntax, the names, the
    limits and every constant's float value with these parameter values."""
    walk(text, params, data, NoAlgebra())


# ------------------------------------------------------------------------ stage 1


def _rewrite(text: str, factors: frozenset[str]) -> tuple[str, list[int]]:
    """`^` -> `**` and implicit `*`; `origin[i]` is the 0-based user column of char i.

    A product is implied after a number (before a name or `(`), and before `(` after `)` or
    after a name in `factors` (a variable, constant or parameter, never a function name:
    `b(y - x^2)` is `b*(y - x^2)`, but `foo(x)` stays a call and is reported as one).
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters, at most {MAX_LENGTH}")
    if not text.strip():
        raise ExpressionError("empty expression")
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    depth = 0
    previous = ("", "")  # kind and text of the previous non-space token
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"unexpected character {text[pos]!r}", pos + 1)
        kind = m.lastgroup or ""
        token = m.group()
        if kind == "name" and keyword.iskeyword(token):
            raise ExpressionError(f"unknown name '{token}'", pos + 1)
        after_factor = previous[0] == "name" and previous[1] in factors
        if (previous[0] == "number" and (kind == "name" or token == "(")) or (
            token == "(" and (previous[1] == ")" or after_factor)
        ):
            out.append("*")
            origin.append(pos)
        if token == "(":
            depth += 1
            if depth > MAX_PAREN_DEPTH:
                raise ExpressionError(
                    f"parentheses nested too deeply (at most {MAX_PAREN_DEPTH})", pos + 1
                )
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise ExpressionError("unmatched ')'", pos + 1)
        replacement = "**" if token == "^" else token
        out.append(replacement)
        origin.extend([pos] * len(replacement))
        if kind != "space":
            previous = (kind, token)
        pos = m.end()
    if depth > 0:
        raise ExpressionError("expected ')'", len(text) + 1)
    return "".join(out), origin


def _syntax_error(exc: SyntaxError, text: str, origin: list[int]) -> ExpressionError:
    offset = (exc.offset or 1) - 1
    if offset >= len(origin):
        return ExpressionError("unexpected end of expression", len(text.rstrip()) + 1)
    column = origin[max(offset, 0)] + 1
    return ExpressionError(f"syntax error near {text[column - 1]!r}", column)


# ------------------------------------------------------------------------ stage 3


@dataclass(frozen=True)
class _Value(Generic[E]):
    """A built sub-expression and, when it is constant, its float value."""

    expr: E
    number: float | None


class _Builder(Generic[E]):
    """Walks the AST against the whitelist, building node by node with the algebra."""

    def __init__(
        self,
        origin: list[int],
        symbols: frozenset[str],
        params: Mapping[str, float],
        algebra: Algebra[E],
    ) -> None:
        self.origin = origin
        self.symbols = symbols
        self.params = params
        self.algebra = algebra
        self.nodes = 0

    def column(self, node: ast.AST) -> int | None:
        offset = getattr(node, "col_offset", None)
        if offset is None or not 0 <= offset < len(self.origin):
            return None
        return self.origin[offset] + 1

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(message, self.column(node))

    def build(self, node: ast.expr, depth: int) -> _Value[E]:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"expression too complex (more than {MAX_NODES} parts)")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, ast.Constant):
            value = self.constant(node)
        elif isinstance(node, ast.Name):
            value = self.name(node)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return inner
            value = _Value(
                self.algebra.neg(inner.expr), None if inner.number is None else -inner.number
            )
        elif isinstance(node, ast.BinOp):
            value = self.binary(node, depth)
        elif isinstance(node, ast.Call):
            value = self.call(node, depth)
        else:
            raise self.fail(_describe(node), node)
        if self.algebra.undefined(value.expr):
            raise self.fail("undefined or complex value", node)
        if value.number is not None:
            return _Value(self.algebra.settle(value.expr, value.number), value.number)
        return value

    def constant(self, node: ast.Constant) -> _Value[E]:
        raw = node.value
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise self.fail("only real numbers are allowed", node)
        number = float(raw) if isinstance(raw, float) or abs(raw) < 10**309 else math.inf
        if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
            raise self.fail("number too large", node)
        return _Value(self.algebra.number(raw), number)

    def name(self, node: ast.Name) -> _Value[E]:
        name = node.id
        if name in self.symbols:
            return _Value(self.algebra.variable(name), None)
        if name in CONSTANT_VALUES:
            return _Value(self.algebra.constant(name), CONSTANT_VALUES[name])
        if name in self.params:
            return _Value(self.algebra.param(name), self.params[name])
        if name in SHADOWS:
            raise self.fail(f"function '{name}' needs arguments in parentheses", node)
        raise self.fail(f"unknown name '{name}'", node)

    def binary(self, node: ast.BinOp, depth: int) -> _Value[E]:
        op = node.op
        if not isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise self.fail(_describe(node), node)
        left = self.build(node.left, depth + 1)
        right = self.build(node.right, depth + 1)
        a, b = left.number, right.number
        number: float | None = None
        if isinstance(op, ast.Pow):
            if b is not None and abs(b) > MAX_EXPONENT:
                raise self.fail("exponent too large", node.right)
            if a is not None and b is not None:
                number = self.shadow(lambda: math.pow(a, b), node)
            return _Value(self.algebra.power(left.expr, right.expr, b, number), number)
        if isinstance(op, ast.Div):
            if b == 0:
                raise self.fail("division by zero", node)
            if a is not None and b is not None:
                number = self.shadow(lambda: a / b, node)
        elif a is not None and b is not None:
            if isinstance(op, ast.Add):
                number = self.shadow(lambda: a + b, node)
            elif isinstance(op, ast.Sub):
                number = self.shadow(lambda: a - b, node)
            else:
                number = self.shadow(lambda: a * b, node)
        return _Value(self.algebra.arith(op, left.expr, right.expr), number)

    def call(self, node: ast.Call, depth: int) -> _Value[E]:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail("only named functions can be called", node)
        name = func.id
        rule = SHADOWS.get(name)
        if rule is None:
            if name in self.symbols or name in CONSTANT_VALUES or name in self.params:
                raise self.fail(f"'{name}' is not a function (write '*' to multiply)", func)
            raise self.fail(f"unknown function '{name}'", func)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(f"'{name}' takes plain arguments only", func)
        if len(node.args) != rule.arity:
            plural = "s" if rule.arity > 1 else ""
            raise self.fail(
                f"'{name}' takes {rule.arity} argument{plural}, got {len(node.args)}", func
            )
        args = [self.build(a, depth + 1) for a in node.args]
        numbers = [a.number for a in args]
        number: float | None = None
        if all(n is not None for n in numbers):
            number = self.shadow(lambda: rule.number(*numbers), node, name)
        return _Value(self.algebra.call(name, [a.expr for a in args]), number)

    def shadow(self, compute: Callable[[], float], node: ast.AST, name: str = "") -> float:
        """Compute a constant's float value; too large or undefined is an error here."""
        try:
            number = float(compute())
        except OverflowError:
            raise self.fail("number too large", node) from None
        except ZeroDivisionError:
            raise self.fail("division by zero", node) from None
        except ValueError:
            what = f"'{name}' is undefined here" if name else "undefined or complex value"
            raise self.fail(what, node) from None
        if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
            raise self.fail("number too large", node)
        return number


def _describe(node: ast.AST) -> str:
    """The reason an unsupported piece of syntax is refused."""
    if isinstance(node, ast.BinOp):
        symbol = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@"}.get(type(node.op), "")
        return f"operator '{symbol}' is not supported" if symbol else "operator not supported"
    if isinstance(node, ast.Attribute):
        return "'.' is only allowed in numbers"
    if isinstance(node, ast.Tuple):
        return "',' is only allowed between function arguments"
    return f"{type(node).__name__.lower()} is not allowed"
