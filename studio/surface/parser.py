"""Typed formula text -> sympy expression, without ever running the text.

The text goes through three guarded stages:

1. `_rewrite`: a small scanner (ASCII letters, digits and `+-*/^().,` only) that replaces
   `^` by `**` and inserts `*` for implicit products (`2x`, `3(x+1)`, `10y^2`), keeping a
   map from every character of the rewritten text back to the user's column. Our own scanner
   rather than the `tokenize` module, because Python reads `2e`, `0x`, `2j` and `1_0` as
   (bad) number literals where a formula means `2*e`, `0*x`, `2*j`, `1*_0`.
2. `ast.parse` of the rewritten text as a single expression statement.
3. `_Builder`, a walk over the tree that accepts only whitelisted node types and names and
   builds the sympy expression node by node. Each node also carries a plain-float "shadow"
   when it is constant, which bounds what sympy is asked to do: no constant beyond 1e300,
   no numeric exponent beyond 1000 in magnitude, no complex or undefined constant
   (`9^9^9^9`, `exp(exp(99))`, `sqrt(-1)`, `1/0` are errors in microseconds, not hangs).
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from studio.scene import MAX_EXPRESSION
from studio.surface.errors import ExpressionError
from studio.surface.functions import FUNCTIONS

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

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)
U = sympy.Symbol("u", real=True)
V = sympy.Symbol("v", real=True)
VARIABLES: dict[str, sympy.Symbol] = {"x": X, "y": Y}
DATA_VARIABLES: dict[str, sympy.Symbol] = {"u": U, "v": V}
CONSTANTS: dict[str, tuple[sympy.Expr, float]] = {"pi": (sympy.pi, math.pi), "e": (sympy.E, math.e)}
RESERVED = (
    frozenset(VARIABLES) | frozenset(DATA_VARIABLES) | frozenset(CONSTANTS) | frozenset(FUNCTIONS)
)
_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I)

_TOKEN = re.compile(
    r"(?P<space>[ \t]+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>[-+*/^(),.])"
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_expression(
    text: str, params: Mapping[str, float] | None = None, *, data: bool = False
) -> sympy.Expr:
    """Parse a formula in x and y (and u, v when `data`) into a sympy expression.

    Declared `params` stay symbols in the result (so a label can show `b*(y - x^2)^2`);
    their values bound the constants like any literal. Raises `ExpressionError` for any bad
    input, and nothing else.
    """
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text")
    checked = check_params(params)
    symbols = dict(VARIABLES)
    if data:
        symbols.update(DATA_VARIABLES)
    rewritten, origin = _rewrite(
        text, frozenset(symbols) | frozenset(CONSTANTS) | frozenset(checked)
    )
    try:
        tree = ast.parse(rewritten)
    except SyntaxError as exc:
        raise _syntax_error(exc, text, origin) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression nested too deeply") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        raise ExpressionError("not a single expression")
    builder = _Builder(origin, symbols, checked)
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


def param_symbol(name: str) -> sympy.Symbol:
    """The sympy symbol a declared parameter becomes (real, like x and y)."""
    return sympy.Symbol(name, real=True)


def exact_number(value: float) -> sympy.Expr:
    """A float as the exact rational it was written as (0.1 -> 1/10, not 0.1000000000000000055)."""
    if float(value).is_integer():
        return sympy.Integer(int(value))
    return sympy.Rational(repr(float(value)))


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
class _Value:
    """A built sub-expression and, when it is constant, its float value."""

    expr: sympy.Expr
    number: float | None


class _Builder:
    """Walks the AST against the whitelist, building sympy node by node."""

    def __init__(
        self, origin: list[int], symbols: Mapping[str, sympy.Symbol], params: Mapping[str, float]
    ) -> None:
        self.origin = origin
        self.symbols = symbols
        self.params = params
        self.nodes = 0

    def column(self, node: ast.AST) -> int | None:
        offset = getattr(node, "col_offset", None)
        if offset is None or not 0 <= offset < len(self.origin):
            return None
        return self.origin[offset] + 1

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(message, self.column(node))

    def build(self, node: ast.expr, depth: int) -> _Value:
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
            value = _Value(-inner.expr, None if inner.number is None else -inner.number)
        elif isinstance(node, ast.BinOp):
            value = self.binary(node, depth)
        elif isinstance(node, ast.Call):
            value = self.call(node, depth)
        else:
            raise self.fail(_describe(node), node)
        if value.expr.has(*_UNDEFINED):
            raise self.fail("undefined or complex value", node)
        if value.number is not None and _too_big(value.expr):
            return _Value(exact_number(value.number), value.number)
        return value

    def constant(self, node: ast.Constant) -> _Value:
        raw = node.value
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise self.fail("only real numbers are allowed", node)
        number = float(raw) if isinstance(raw, float) or abs(raw) < 10**309 else math.inf
        if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
            raise self.fail("number too large", node)
        return _Value(sympy.Integer(raw) if isinstance(raw, int) else exact_number(raw), number)

    def name(self, node: ast.Name) -> _Value:
        name = node.id
        if name in self.symbols:
            return _Value(self.symbols[name], None)
        if name in CONSTANTS:
            expr, number = CONSTANTS[name]
            return _Value(expr, number)
        if name in self.params:
            return _Value(param_symbol(name), self.params[name])
        if name in FUNCTIONS:
            raise self.fail(f"function '{name}' needs arguments in parentheses", node)
        raise self.fail(f"unknown name '{name}'", node)

    def binary(self, node: ast.BinOp, depth: int) -> _Value:
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
                # An integer power of a rational is computed eagerly by sympy: bound its
                # size before asking (the result's bits are about |b| times the base's).
                # Only a literal exponent: a parameter stays a symbol whatever its value,
                # so the expression (and its compiled code) is the same for every value.
                base = left.expr
                bits = (
                    abs(b) * max(abs(base.p).bit_length(), base.q.bit_length())
                    if base.is_Rational
                    else 0
                )
                if right.expr.is_Number and float(b).is_integer() and bits > MAX_EXACT_BITS:
                    return _Value(exact_number(number), number)
            expr = sympy.Pow(left.expr, right.expr)
        elif isinstance(op, ast.Div):
            if b == 0:
                raise self.fail("division by zero", node)
            if a is not None and b is not None:
                number = self.shadow(lambda: a / b, node)
            expr = left.expr / right.expr
        else:
            if a is not None and b is not None:
                if isinstance(op, ast.Add):
                    number = self.shadow(lambda: a + b, node)
                elif isinstance(op, ast.Sub):
                    number = self.shadow(lambda: a - b, node)
                else:
                    number = self.shadow(lambda: a * b, node)
            if isinstance(op, ast.Add):
                expr = left.expr + right.expr
            elif isinstance(op, ast.Sub):
                expr = left.expr - right.expr
            else:
                expr = left.expr * right.expr
        return _Value(expr, number)

    def call(self, node: ast.Call, depth: int) -> _Value:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail("only named functions can be called", node)
        name = func.id
        rule = FUNCTIONS.get(name)
        if rule is None:
            if name in self.symbols or name in CONSTANTS or name in self.params:
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
        return _Value(rule.build(*(a.expr for a in args)), number)

    def shadow(self, compute: object, node: ast.AST, name: str = "") -> float:
        """Compute a constant's float value; too large or undefined is an error here."""
        try:
            number = float(compute())  # type: ignore[operator]
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


def _too_big(expr: sympy.Expr) -> bool:
    """A rational constant whose exact form would be too long to print or compute with."""
    return (
        bool(expr.is_Rational)
        and max(abs(expr.p).bit_length(), expr.q.bit_length()) > MAX_EXACT_BITS
    )


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
