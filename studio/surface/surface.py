"""`Surface`: a loss f(x, y) with its exact gradient, vectorised over balls.

A surface is built once from formula text (parsed by `studio.surface.parser`, never run)
and is immutable afterwards. Plain surfaces compute f and ∇f from one generated NumPy
function. Data-fit surfaces hold a per-row loss ℓ(x, y; u, v) and data rows (u, v): f is the
mean (or, with reduction "sum", the sum) of ℓ over the rows, and `grad_rows` gives each
ball the mean (sum) gradient over its own mini-batch of rows (docs/algorithms.md#mini-batches:
batch_size=B, B = 1 is SGD, B = all rows is batch GD).

Compiling (sympy diff + lambdify + printing) costs 50-300 ms, so it is cached by (formula,
parameter names, kind). Parameters are arguments of the generated function, bound by each
`Surface`: moving a parameter slider builds a new surface without compiling anything.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.scene import REDUCTIONS
from studio.surface import stored
from studio.surface.errors import ExpressionError
from studio.surface.syntax import check_formula, check_params

if TYPE_CHECKING:
    import sympy

NumericFunction = Callable[..., list[Any]]

Domain = tuple[float, float, float, float]
DEFAULT_DOMAIN: Domain = (-5.0, 5.0, -5.0, 5.0)
HEIGHTS = ("linear", "log1p")
MAX_ROWS = 100_000
UNDEFINED_GRID = 40  # cells per side when measuring where f is undefined


@dataclass(frozen=True)
class _Compiled:
    """Everything about a formula that does not depend on parameter values, domain, names or
    data rows: one compile serves every value a parameter slider passes through. No sympy
    objects: the expression itself is parsed again only when asked for (`symbolic`)."""

    full: NumericFunction  # (x, y[, u, v], *parameter values) -> [f, df/dx, df/dy]
    param_names: tuple[str, ...]  # the order of the parameter arguments of `full`
    text: str  # pretty(symbolic)
    latex: str
    gradient_text: tuple[str, str]
    gradient_latex: tuple[str, str]
    formula: str  # as typed
    data: bool
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def symbolic(self, params: Mapping[str, float]) -> sympy.Expr:
        """The sympy expression (parameters as symbols). `params` are values this formula
        was checked with; the expression does not depend on them."""
        expr: sympy.Expr | None = self._memo.get("f")
        if expr is None:
            from studio.surface.parser import parse_expression

            expr = self._memo["f"] = parse_expression(self.formula, params, data=self.data)
        return expr

    def filled(self, params: Mapping[str, float]) -> str:
        """pretty(symbolic with these parameter values substituted)."""
        values = tuple(sorted(params.items()))
        text: str | None = self._memo.get(values)
        if text is not None:
            return text
        key = (self.formula, tuple(name for name, _ in values), self.data)
        text = stored.pregenerated_filled(key, params) or stored.cached_filled(key, params)
        if text is None:
            text = fill_values(self.symbolic(params), params)
            stored.cache_filled(key, params, text)
        self._memo[values] = text
        return text


def fill_values(expr: sympy.Expr, params: Mapping[str, float]) -> str:
    """pretty() of `expr` with the parameters given values (sympy simplifies the result)."""
    from studio.surface.printing import pretty

    symbols = {s.name: s for s in expr.free_symbols}
    return pretty(expr.subs({symbols[k]: v for k, v in params.items() if k in symbols}))


_CacheKey = tuple[str, tuple[str, ...], bool]
_CACHE_SIZE = 128
# Two keys lead to one compiled formula: the parameters it uses (what a compile needs to
# know, found by parsing), and the parameters declared (known without parsing: the key the
# stores of docs/architecture.md#start-up use).
_cache: OrderedDict[_CacheKey, _Compiled] = OrderedDict()
_declared: OrderedDict[_CacheKey, _Compiled] = OrderedDict()
_cache_lock = threading.Lock()
_stats = {"hits": 0, "compiles": 0, "stored": 0}
_cached_only: ContextVar[bool] = ContextVar("cached_only", default=False)


class NotCompiledError(Exception):
    """Raised inside `cached_only()` when a formula would need compiling; it carries what
    `compile_formula` needs to compile it."""

    def __init__(self, text: str, params: Mapping[str, float], data: bool) -> None:
        super().__init__(text)
        self.text, self.params, self.data = text, dict(params), data


def compile_stats() -> dict[str, int]:
    """How many formulas were compiled, how many requests the cache answered and how many
    compiled formulas came from the stores (pregenerated or on disk)."""
    with _cache_lock:
        return dict(_stats)


def clear_compile_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _declared.clear()


@contextmanager
def cached_only() -> Iterator[None]:
    """Within it, building a surface whose formula is not compiled yet raises
    `NotCompiledError` instead of running sympy (the caller compiles under a time budget)."""
    token = _cached_only.set(True)
    try:
        yield
    finally:
        _cached_only.reset(token)


def compile_formula(text: str, params: Mapping[str, float], data: bool) -> None:
    """Compile a formula into the cache (what building its surface would compile)."""
    _compile(text, check_params(params), data)


def _remember(cache: OrderedDict[_CacheKey, _Compiled], key: _CacheKey, hit: _Compiled) -> None:
    cache[key] = hit
    cache.move_to_end(key)
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)


def _compile(text: str, params: Mapping[str, float], data: bool) -> _Compiled:
    """The compiled formula, keyed by its text and the names of the parameters it uses,
    never their values.

    Parsing runs every time (well under a millisecond): it checks these values (`exp(b)`
    with b = 1000 is refused) while the expression it builds does not depend on them. A
    formula compiled before (in this process, shipped pregenerated, or in the disk cache)
    is checked by the same walk without sympy (`check_formula`): what sympy alone refuses
    does not depend on the values, and the stored formula passed it.
    """
    declared: _CacheKey = (text, tuple(sorted(params)), data)
    with _cache_lock:
        hit = _declared.get(declared)
        if hit is not None:
            _declared.move_to_end(declared)
    if hit is None:
        hit = _from_stores(declared)
        if hit is not None:
            check_formula(text, params, data=data)
            _smoke_test(hit, data, tuple(params[name] for name in hit.param_names))
            with _cache_lock:
                _stats["stored"] += 1
                _remember(_declared, declared, hit)
                # Under the parameters it uses too: declaring one more (the GUI's
                # parameter line) then parses but compiles nothing, as after a compile.
                _remember(_cache, (text, hit.param_names, data), hit)
            return hit
    if hit is not None:
        check_formula(text, params, data=data)
        with _cache_lock:
            _stats["hits"] += 1
        return hit
    compiled = _compile_with_sympy(text, params, data)
    with _cache_lock:
        _remember(_declared, declared, compiled)
    return compiled


def _from_stores(key: _CacheKey) -> _Compiled | None:
    """A compiled formula from the pregenerated table or the disk cache, or None."""
    for lookup in (stored.pregenerated, stored.cached):
        entry = lookup(key)
        if entry is None:
            continue
        try:
            full = stored.load_function(entry.source, key[2], entry.param_names)
        except stored.InvalidCode:
            continue
        return _Compiled(
            full=full,
            param_names=entry.param_names,
            text=entry.text,
            latex=entry.latex,
            gradient_text=entry.gradient_text,
            gradient_latex=entry.gradient_latex,
            formula=key[0],
            data=key[2],
        )
    return None


def _compile_with_sympy(text: str, params: Mapping[str, float], data: bool) -> _Compiled:
    from studio.surface.parser import param_symbol, parse_expression

    symbolic = parse_expression(text, params, data=data)
    # Only the parameters the formula uses are arguments: declaring another one (the GUI's
    # parameter line) compiles nothing either.
    used = symbolic.free_symbols
    key: _CacheKey = (text, tuple(sorted(n for n in params if param_symbol(n) in used)), data)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            _stats["hits"] += 1
            return hit
    if _cached_only.get():
        raise NotCompiledError(text, params, data)
    compiled, source = _build(text, symbolic, key[1], data)
    _smoke_test(compiled, data, tuple(params[name] for name in key[1]))
    with _cache_lock:
        _stats["compiles"] += 1
        _remember(_cache, key, compiled)
    if source is not None:
        stored.cache(
            (text, tuple(sorted(params)), data),
            stored.Entry(
                compiled.param_names,
                source,
                compiled.text,
                compiled.latex,
                compiled.gradient_text,
                compiled.gradient_latex,
            ),
        )
    return compiled


def _build(
    text: str, symbolic: sympy.Expr, names: tuple[str, ...], data: bool
) -> tuple[_Compiled, str | None]:
    """All the sympy work on one formula: gradient, NumPy code and display texts (a data-fit
    loss shows the row's u, v as u_i, v_i in LaTeX, under the mean the surface adds); and
    the generated code's source, for the disk cache."""
    import sympy

    from studio.surface.compile import compile_numeric, generated_source, gradient
    from studio.surface.parser import U, V, X, Y, param_symbol
    from studio.surface.printing import pretty, to_latex

    grad = gradient(symbolic, (X, Y))
    arguments = (X, Y, U, V) if data else (X, Y)
    rows = {U: sympy.Symbol("u_i", real=True), V: sympy.Symbol("v_i", real=True)}

    def latex(expr: sympy.Expr) -> str:
        return to_latex(expr.xreplace(rows) if data else expr)

    full = compile_numeric([symbolic, *grad], (*arguments, *(param_symbol(name) for name in names)))
    compiled = _Compiled(
        full=full,
        param_names=names,
        text=pretty(symbolic),
        latex=latex(symbolic),
        gradient_text=(pretty(grad[0]), pretty(grad[1])),
        gradient_latex=(latex(grad[0]), latex(grad[1])),
        formula=text,
        data=data,
    )
    compiled._memo["f"] = symbolic
    return compiled, generated_source(full)


def _smoke_test(compiled: _Compiled, data: bool, values: tuple[float, ...]) -> None:
    """Run the generated code once: a formula sympy accepted but NumPy cannot compute
    (e.g. an integer constant too large for a float) must fail here, as an ExpressionError."""
    probe = np.array([0.5, -1.5])
    args = (probe, probe[::-1], probe, probe) if data else (probe, probe[::-1])
    try:
        with np.errstate(all="ignore"):
            for part in compiled.full(*args, *values):
                as_float_array(part, probe.shape)
    except (ArithmeticError, TypeError, ValueError, NameError) as exc:
        raise ExpressionError(f"cannot compute this expression ({type(exc).__name__})") from None


def as_float_array(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A generated function's result (an array, or a plain number for a constant) as
    float64 `shape`."""
    array = np.asarray(value, dtype=np.float64)
    if array.shape == shape:
        return array
    return np.broadcast_to(array, shape).copy()


def _params_key(params: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(check_params(params).items()))


MAX_DOMAIN = 1e6
MIN_SPAN = 1e-6


def check_domain(domain: Sequence[float] | None) -> Domain:
    """(xmin, xmax, ymin, ymax) as finite floats with min < max; None -> [-5, 5]²."""
    if domain is None:
        return DEFAULT_DOMAIN
    values = tuple(float(v) for v in domain)
    if (
        len(values) != 4
        or not all(math.isfinite(v) for v in values)
        or not (values[0] < values[1] and values[2] < values[3])
    ):
        raise ExpressionError("domain must be four finite numbers xmin < xmax, ymin < ymax")
    # Grids, start grids and the views divide the span and square coordinates: a bound near
    # 1e308 overflows them, a span near 0 divides by it.
    if (
        max(map(abs, values)) > MAX_DOMAIN
        or min(values[1] - values[0], values[3] - values[2]) < MIN_SPAN
    ):
        raise ExpressionError(
            f"domain bounds must lie within ±{MAX_DOMAIN:g} and span at least {MIN_SPAN:g}"
        )
    return values


def _split(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The x and y columns of an (N, 2) array as float64 views (the generated functions
    never write to their arguments; copies cost more than strided reads)."""
    array = np.asarray(xy, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"positions must have shape (N, 2), got {array.shape}")
    return array[:, 0], array[:, 1]


@dataclass(frozen=True, eq=False)
class Surface:
    """A loss surface: f and ∇f for many balls at once, plus what the views show about it."""

    name: str
    title: str
    expression: str
    params: dict[str, float]
    domain: Domain
    minima: tuple[tuple[float, float, float], ...]
    height: str
    n_rows: int
    latex: str
    gradient_text: tuple[str, str]
    gradient_latex: tuple[str, str]
    _compiled: _Compiled = field(repr=False)
    _rows: np.ndarray | None = field(repr=False, default=None)
    _values: tuple[float, ...] = field(repr=False, default=())  # in _compiled.param_names order
    reduction: str = "mean"  # of a data-fit surface: "mean" or "sum" of ℓ over the rows

    @property
    def symbolic(self) -> sympy.Expr:
        """The formula (a data-fit surface: the per-row loss) as a sympy expression, its
        parameters as symbols; parsed with sympy on first use."""
        return self._compiled.symbolic(self.params)

    def formula_with_values(self) -> str:
        """The formula with the parameter values filled in and simplified, as `pretty`
        writes it (an export's default title). Kept with the compiled code (pregenerated,
        disk cache), so a render of a known formula needs no sympy."""
        return self._compiled.filled(self.params)

    @property
    def dim(self) -> int:
        """2: the parameters are the surface's (x, y) (the engine's `Objective` protocol)."""
        return 2

    @property
    def data(self) -> np.ndarray | None:
        """The data rows (u, v) of a data-fit surface, read-only (M, 2); None otherwise."""
        return self._rows

    def validation_split(self) -> tuple[np.ndarray, np.ndarray]:
        """(training, validation) row indices of a data-fit surface: row k validates when
        k % 5 == 4 (docs/algorithms.md#early-stopping); used by runs that stop on the
        validation loss, whose gradient then leaves those rows out."""
        from studio.surface.datafit import validation_split

        return validation_split(self.n_rows)

    def value(self, xy: np.ndarray) -> np.ndarray:
        """f at each ball: (N, 2) -> (N,). Non-finite where f is (log 0, overflow).

        Computed by the same generated function as `value_and_grad` (the gradient is thrown
        away), so the two agree to the last bit: a trajectory's recorded loss equals
        `value` at its positions.
        """
        return self.value_and_grad(xy)[0]

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f and ∇f at each ball: (N, 2) -> (N,), (N, 2); all rows for a data-fit surface."""
        x, y = _split(xy)
        n = x.shape[0]
        with np.errstate(all="ignore"):
            if self._rows is None:
                f, gx, gy = self._compiled.full(x, y, *self._values)
                f = as_float_array(f, (n,))
                if f is x or f is y:  # f(x, y) = x hands back the caller's own column
                    f = f.copy()
                grad = np.empty((n, 2))
                grad[:, 0] = as_float_array(gx, (n,))
                grad[:, 1] = as_float_array(gy, (n,))
                return f, _tip_to_zero(f[:, None], grad)
            rows = self._rows
            f, grad = self._row_means(
                x, y, rows[:, 0][None, :], rows[:, 1][None, :], (n, rows.shape[0])
            )
            return f, grad

    def grad_rows(self, xy: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Per ball, the mean (reduction "sum": the sum) gradient over its own rows: rows int
        (N, B) -> (N, 2).

        For a plain surface there are no rows, so every batch is the full gradient.
        """
        return self.value_grad_rows(xy, rows)[1]

    def value_grad_rows(self, xy: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per ball, ℓ and ∇ℓ reduced over its own rows (int (N, B)): (N,), (N, 2)."""
        if self._rows is None:
            return self.value_and_grad(xy)
        x, y = _split(xy)
        index = np.asarray(rows)
        if (
            index.ndim != 2
            or index.shape[0] != x.shape[0]
            or not np.issubdtype(index.dtype, np.integer)
        ):
            raise ValueError(
                f"rows must be integers of shape ({x.shape[0]}, B), got {index.dtype} {index.shape}"
            )
        with np.errstate(all="ignore"):
            u, v = self._rows[index, 0], self._rows[index, 1]
            return self._row_means(x, y, u, v, index.shape)

    def _row_means(
        self, x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, shape: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean (or sum, by `reduction`) over axis 1 of ℓ and ∇ℓ with x, y (N, 1) against
        u, v (1 or N, B)."""
        f, gx, gy = self._compiled.full(x[:, None], y[:, None], u, v, *self._values)
        f = as_float_array(f, shape)
        reduce = np.sum if self.reduction == "sum" else np.mean
        grad = np.empty((shape[0], 2))
        grad[:, 0] = reduce(_tip_to_zero(f, as_float_array(gx, shape)), axis=1)
        grad[:, 1] = reduce(_tip_to_zero(f, as_float_array(gy, shape)), axis=1)
        return reduce(f, axis=1), grad

    def grid(
        self,
        nx: int,
        ny: int,
        domain: Sequence[float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """xs (nx,), ys (ny,), Z (nx, ny) = f(xs[i], ys[j]) (meshgrid indexing='ij')."""
        xmin, xmax, ymin, ymax = check_domain(domain) if domain is not None else self.domain
        xs = np.linspace(xmin, xmax, int(nx))
        ys = np.linspace(ymin, ymax, int(ny))
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        z = self.value(np.column_stack([gx.ravel(), gy.ravel()]))
        return xs, ys, z.reshape(len(xs), len(ys))

    def undefined_share(self, n: int = UNDEFINED_GRID) -> float:
        """The share of an n × n grid of cells over the domain where f is undefined (NaN: the log or
        square root of a negative number), 0.0 where f has a value everywhere; what the
        Surface panel's note reports (docs/algorithms.md#undefined-regions)."""
        # Cell centres, not a grid through the edges: a half plane reads as 50%.
        xmin, xmax, ymin, ymax = self.domain
        xs = xmin + (np.arange(n) + 0.5) * (xmax - xmin) / n
        ys = ymin + (np.arange(n) + 0.5) * (ymax - ymin) / n
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        z = self.value(np.column_stack([gx.ravel(), gy.ravel()]))
        return float(np.count_nonzero(np.isnan(z)) / z.size) if z.size else 0.0


def _tip_to_zero(f: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """0 where f is finite but its partial derivative is nan.

    That is the 0/0 of a cone tip, e.g. hypot(x, y) or Ackley's sqrt(x^2 + y^2) at the
    origin, where 0 is a subgradient; a ball sitting at Ackley's minimum must not read as
    diverged. Where f itself is not finite the partial stays as it is.
    """
    nan = np.isnan(partial)
    if not nan.any():  # the usual case, in two cheap calls
        return partial
    return np.where(nan & np.isfinite(f), 0.0, partial)


def _auto_height(surface: Surface) -> str:
    """log1p for a non-negative surface whose top is 1000× above its floor, else linear."""
    _, _, z = surface.grid(41, 41)
    finite = z[np.isfinite(z)]
    if finite.size and finite.min() >= 0 and finite.max() > 1000 * (finite.min() + 1):
        return "log1p"
    return "linear"


def _check_height(height: str | None) -> str | None:
    if height is None or height == "auto":
        return None
    if height not in HEIGHTS:
        raise ExpressionError(f"height must be one of auto, {', '.join(HEIGHTS)}")
    return height


def make_surface(
    expression: str,
    params: Mapping[str, float] | None = None,
    domain: Sequence[float] | None = None,
    name: str = "custom",
    title: str = "Custom",
    *,
    minima: Sequence[tuple[float, float, float]] = (),
    height: str | None = None,
) -> Surface:
    """A plain surface f(x, y) from formula text; `ExpressionError` for any bad input.

    `height` None or "auto" picks "log1p" for a non-negative surface spanning orders of
    magnitude (Rosenbrock-like), "linear" otherwise.
    """
    values = dict(_params_key(params))
    compiled = _compile(expression, values, False)
    surface = Surface(
        name=name,
        title=title,
        expression=compiled.text,
        params=values,
        domain=check_domain(domain),
        minima=tuple((float(a), float(b), float(c)) for a, b, c in minima),
        height=_check_height(height) or "linear",
        n_rows=0,
        latex=compiled.latex,
        gradient_text=compiled.gradient_text,
        gradient_latex=compiled.gradient_latex,
        _compiled=compiled,
        _values=tuple(values[n] for n in compiled.param_names),
    )
    if _check_height(height) is None:
        surface = _replace_height(surface, _auto_height(surface))
    return surface


def make_data_surface(
    loss: str,
    rows: np.ndarray | Sequence[Sequence[float]],
    params: Mapping[str, float] | None = None,
    domain: Sequence[float] | None = None,
    name: str = "custom",
    title: str = "Custom data fit",
    *,
    minima: Sequence[tuple[float, float, float]] = (),
    height: str | None = None,
    reduction: str = "mean",
) -> Surface:
    """A data-fit surface: f(x, y) = mean (or, `reduction="sum"`, sum) over data rows (u, v)
    of the per-row `loss`.

    `loss` is a formula in x, y and the data columns u, v; `rows` is (M, 2) of (u, v).
    """
    if reduction not in REDUCTIONS:
        raise ExpressionError(f"reduction must be one of {', '.join(REDUCTIONS)}")
    data = np.array(rows, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != 2 or not 1 <= data.shape[0] <= MAX_ROWS:
        raise ExpressionError(f"data must be 1 to {MAX_ROWS} rows of two numbers (u, v)")
    if not np.all(np.isfinite(data)):
        raise ExpressionError("data must be finite numbers")
    data.setflags(write=False)
    values = dict(_params_key(params))
    compiled = _compile(loss, values, True)
    m = data.shape[0]
    if reduction == "sum":
        mean = rf"\sum_{{i=1}}^{{{m}}} "
        prefix = f"sum over {m} rows (u, v) of "
    else:
        mean = rf"\frac{{1}}{{{m}}}\sum_{{i=1}}^{{{m}}} "
        prefix = f"mean over {m} rows (u, v) of "
    surface = Surface(
        name=name,
        title=title,
        expression=prefix + compiled.text,
        params=values,
        domain=check_domain(domain),
        minima=tuple((float(a), float(b), float(c)) for a, b, c in minima),
        height=_check_height(height) or "linear",
        n_rows=m,
        latex=mean + compiled.latex,
        gradient_text=(prefix + compiled.gradient_text[0], prefix + compiled.gradient_text[1]),
        gradient_latex=(mean + compiled.gradient_latex[0], mean + compiled.gradient_latex[1]),
        _compiled=compiled,
        _rows=data,
        _values=tuple(values[n] for n in compiled.param_names),
        reduction=reduction,
    )
    if _check_height(height) is None:
        surface = _replace_height(surface, _auto_height(surface))
    return surface


def _replace_height(surface: Surface, height: str) -> Surface:
    from dataclasses import replace

    return replace(surface, height=height)
