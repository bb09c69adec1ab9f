"""Compiled formulas kept between runs, so that a render of a known formula needs no sympy.

Two stores, looked up in this order by (formula text, declared parameter names, data-fit):

1. The pregenerated table (`studio.surface.pregenerated`), written by
   `python -m studio.surface.pregenerate` for the shipped presets and checked against a fresh
   compile by the tests.
2. A per-user disk cache (`cache_dir()`), one JSON file per formula, written atomically after
   each successful compile. A file that cannot be read, does not parse, names another key,
   fails its checksum or holds code of any other shape than our generator writes is ignored
   (and rewritten by the next compile).

Stored code is never trusted as it comes: `load_function` accepts only the shape
`compile_numeric` produces (one function of the expected arguments; assignments to fresh
locals; a returned list of f and its two partial derivatives; arithmetic, numbers, the
arguments and calls of whitelisted NumPy and studio functions) and runs it with no
builtins. The formula itself still goes through `studio.surface.syntax.check_formula`
(its values checked by the parser's own walk) before a stored entry is used; see
docs/architecture.md#start-up.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import sys
import threading
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.surface.numeric import NUMPY_NAMESPACE

FORMAT = 1  # the entry layout and the generator's shape: bump when either changes
FUNCTION_NAME = "_lambdifygenerated"
MAX_SOURCE = 200_000  # characters of generated code (a 400-node formula's gradient fits)
MAX_ENTRY_BYTES = 1_000_000
CACHE_ENV = "STUDIO_CACHE_DIR"  # a folder for the cache; empty: no disk cache
# NumPy names generated code may use: elementwise maths and two constants.
NUMPY_NAMES = frozenset(
    ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh")
    + ("arcsinh", "arccosh", "arctanh", "exp", "expm1", "log", "log1p", "log2", "log10")
    + ("sqrt", "cbrt", "hypot", "abs", "absolute", "sign", "minimum", "maximum")
)
_MAX_INT = 2**63
_LOCAL_PREFIX = "x"  # sympy's cse names its subexpressions x0, x1, ...

Key = tuple[str, tuple[str, ...], bool]  # formula text, declared parameter names, data-fit


@dataclass(frozen=True)
class Entry:
    """What a compile produced for a formula, short of sympy objects."""

    param_names: tuple[str, ...]  # the parameter arguments of the code, in order
    source: str  # the generated NumPy function
    text: str  # the formula as pretty() writes it
    latex: str
    gradient_text: tuple[str, str]
    gradient_latex: tuple[str, str]


class InvalidCode(ValueError):
    """Stored code of another shape than the generator's."""


NumericFunction = Callable[..., list[Any]]


def arguments(data: bool, param_names: Sequence[str]) -> tuple[str, ...]:
    """The generated function's arguments, in order."""
    return ("x", "y", "u", "v", *param_names) if data else ("x", "y", *param_names)


def load_function(source: str, data: bool, param_names: Sequence[str]) -> NumericFunction:
    """The function in `source`, after checking it has the generator's shape (`InvalidCode`)."""
    tree = _validated(source, arguments(data, param_names))
    namespace: dict[str, Any] = {"__builtins__": {}, "numpy": np, **NUMPY_NAMESPACE}
    # The module is never run: its one function's code object becomes a function whose
    # globals are NumPy and our functions alone.
    module = compile(tree, "<studio generated>", "exec")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(code, namespace, FUNCTION_NAME)


def _validated(source: str, args: tuple[str, ...]) -> ast.Module:
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        raise InvalidCode("source too long")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise InvalidCode("not Python") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise InvalidCode("not one function")
    func = tree.body[0]
    spec = func.args
    if (
        func.name != FUNCTION_NAME
        or func.decorator_list
        or func.returns is not None
        or spec.posonlyargs
        or spec.vararg
        or spec.kwonlyargs
        or spec.kwarg
        or spec.defaults
        or tuple(a.arg for a in spec.args) != args
        or any(a.annotation is not None for a in spec.args)
    ):
        raise InvalidCode("unexpected signature")
    known = set(args)
    *assignments, result = func.body
    for statement in assignments:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            raise InvalidCode("unexpected statement")
        target = statement.targets[0].id
        if (
            not target.startswith(_LOCAL_PREFIX)
            or not target[len(_LOCAL_PREFIX) :].isdigit()
            or target in known
        ):
            raise InvalidCode("unexpected assignment")
        _check_expression(statement.value, known)
        known.add(target)
    if not (
        isinstance(result, ast.Return)
        and isinstance(result.value, ast.List)
        and len(result.value.elts) == 3
    ):
        raise InvalidCode("unexpected result")
    for part in result.value.elts:
        _check_expression(part, known)
    return tree


def _check_expression(node: ast.expr, known: set[str]) -> bool:
    """Raise InvalidCode unless `node` is arithmetic on numbers, the names in `known` and
    whitelisted calls; returns whether it involves a name (an argument or a local)."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidCode("unexpected constant")
        if isinstance(value, int) and abs(value) >= _MAX_INT:
            raise InvalidCode("integer too large")
        return False
    if isinstance(node, ast.Name):
        if node.id not in known:
            raise InvalidCode(f"unexpected name {node.id!r}")
        return True
    if isinstance(node, ast.Attribute):
        if not (
            isinstance(node.value, ast.Name)
            and node.value.id == "numpy"
            and node.attr in ("pi", "e")
        ):
            raise InvalidCode("unexpected attribute")
        return False
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _check_expression(node.operand, known)
    if isinstance(node, ast.BinOp) and isinstance(
        node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
    ):
        left = _check_expression(node.left, known)
        right = _check_expression(node.right, known)
        if isinstance(node.op, ast.Pow) and not (left or right):
            # sympy folds constant powers; one left in stored code could be 9**9**9
            raise InvalidCode("constant power")
        return left or right
    if isinstance(node, ast.Call):
        func = node.func
        allowed = (isinstance(func, ast.Name) and func.id in NUMPY_NAMESPACE) or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "numpy"
            and func.attr in NUMPY_NAMES
        )
        if not allowed or node.keywords or not node.args:
            raise InvalidCode("unexpected call")
        involved = [_check_expression(a, known) for a in node.args]
        return any(involved)
    raise InvalidCode(f"unexpected {type(node).__name__}")


# ------------------------------------------------------------------ the two stores


def pregenerated(key: Key) -> Entry | None:
    """The shipped presets' entry for `key`, if it is one of theirs."""
    from studio.surface import pregenerated as table

    row = table.COMPILED.get(key)
    return None if row is None else Entry(*row)


def pregenerated_filled(key: Key, values: Mapping[str, float]) -> str | None:
    from studio.surface import pregenerated as table

    return table.FILLED.get((*key, tuple(sorted(values.items()))))


def cache_dir() -> Path | None:
    """Where compiled formulas are cached for this user: `STUDIO_CACHE_DIR` if set (empty:
    nowhere), else the platform's cache folder."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen) / "formulas" if chosen else None
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Caches"
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / "descent-studio" / "formulas"


def _versions() -> list[str]:
    """What the generated code depends on besides the formula."""
    from studio import __version__

    try:
        from importlib.metadata import PackageNotFoundError, version

        sympy_version = version("sympy")
    except (ImportError, PackageNotFoundError):
        sympy_version = "unknown"
    return [str(FORMAT), __version__, sympy_version]


def _path(kind: str, key_list: list[Any]) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(json.dumps([kind, *key_list]).encode()).hexdigest()
    return folder / f"{kind}-{digest}.json"


def _checksum(key_list: list[Any], body: Any) -> str:
    return hashlib.sha256(json.dumps([key_list, body], sort_keys=True).encode()).hexdigest()


def _read(kind: str, key_list: list[Any]) -> Any:
    """The body stored under the key, or None (missing, unreadable, corrupt, foreign)."""
    path = _path(kind, key_list)
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_ENTRY_BYTES + 1)
        document = json.loads(raw) if len(raw) <= MAX_ENTRY_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(document, dict)
        or document.get("key") != key_list
        or "body" not in document
        or document.get("check") != _checksum(key_list, document["body"])
    ):
        return None
    return document["body"]


def _write(kind: str, key_list: list[Any], body: Any) -> None:
    """Store `body` under the key: a temporary file beside the target, then a rename, so a
    reader sees the old entry, the new one or none. A cache that cannot be written is no
    error (the next run compiles again)."""
    path = _path(kind, key_list)
    if path is None:
        return
    document = {"key": key_list, "body": body, "check": _checksum(key_list, body)}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _entry_key(key: Key) -> list[Any]:
    text, names, data = key
    return [*_versions(), text, list(names), data]


def cached(key: Key) -> Entry | None:
    """The disk cache's entry for `key`, if a valid one is there."""
    body = _read("compiled", _entry_key(key))
    if not isinstance(body, dict):
        return None
    try:
        entry = Entry(
            param_names=tuple(_strings(body["param_names"])),
            source=_string(body["source"]),
            text=_string(body["text"]),
            latex=_string(body["latex"]),
            gradient_text=_pair(body["gradient_text"]),
            gradient_latex=_pair(body["gradient_latex"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    if not set(entry.param_names) <= set(key[1]):
        return None
    return entry


def cache(key: Key, entry: Entry) -> None:
    """Store a fresh compile's entry (only code `load_function` would accept)."""
    try:
        _validated(entry.source, arguments(key[2], entry.param_names))
    except InvalidCode:
        return
    body = {
        "param_names": list(entry.param_names),
        "source": entry.source,
        "text": entry.text,
        "latex": entry.latex,
        "gradient_text": list(entry.gradient_text),
        "gradient_latex": list(entry.gradient_latex),
    }
    _write("compiled", _entry_key(key), body)


def _filled_key(key: Key, values: Mapping[str, float]) -> list[Any]:
    return [*_entry_key(key), sorted([k, float(v)] for k, v in values.items())]


def cached_filled(key: Key, values: Mapping[str, float]) -> str | None:
    """The formula with these parameter values filled in, if stored."""
    body = _read("filled", _filled_key(key, values))
    return body if isinstance(body, str) else None


def cache_filled(key: Key, values: Mapping[str, float], text: str) -> None:
    _write("filled", _filled_key(key, values), text)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return [_string(v) for v in value]


def _pair(value: Any) -> tuple[str, str]:
    items = _strings(value)
    if len(items) != 2:
        raise ValueError("not a pair")
    return items[0], items[1]
