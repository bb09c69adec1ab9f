"""The scene: what the user set up, as plain frozen data with versioned JSON.

A `Scene` holds names and numbers only (never callables or code): a surface spec, the
optimizer runs with their hyperparameters and start points, the number of steps and the
random seed. The GUI edits a scene (with `dataclasses.replace`), the CLI loads one, an
export renders one; the same scene and seed give the same trajectory everywhere.

`scene_from_dict` checks structure and types strictly: a file shared by a colleague may be
corrupt or hostile, so every field is type-checked, every number must be finite, and every
size is capped. Semantic checks (does the expression parse, is `beta1` in [0, 1)) belong to
the surface parser and the optimizer registry, which raise `StudioError` in turn.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.network.model import NetworkSpec

# Version 2 added a network surface (`SurfaceSpec.network`, `plane`); version 3 a data-fit
# surface's own rows and its loss reduction (`SurfaceSpec.data`, `reduction`) and the lower
# plot (`Scene.lower_plot`). A scene is written with the lowest version that holds it, so a
# scene using none of them stays readable by an older studio.
SCENE_VERSION = 3
PLANES = ("pca", "random")
REDUCTIONS = ("mean", "sum")
MAX_DATA_ROWS = 500  # (u, v) rows a scene may carry: the views evaluate f on a 150² grid
# over every row on the GUI thread, ~0.1 s per 100 rows
# What the loss view's lower plot shows against the step: gradient norm, learning rate, and
# on a network scene only, validation loss and accuracy (measured on its validation split).
LOWER_PLOTS = ("grad", "lr", "val_loss", "accuracy")
NETWORK_LOWER_PLOTS = ("val_loss", "accuracy")
MAX_FILE_BYTES = 2_000_000
MAX_RUNS = 64
MAX_STARTS = 4096
MAX_GRID = 64
MAX_STEPS = 100_000
MAX_TEXT = 2000
MAX_HYPER = 64
MAX_INT_DIGITS = 30
MAX_EXPRESSION = 500  # characters of a formula (the parser's limit too)
HEIGHT_MODES = ("auto", "linear", "log1p")

# Okabe-Ito, then Tableau: distinct for colour-blind viewers, legible on light and dark.
PALETTE = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
)

HyperValue = float | int | str


class SceneError(StudioError):
    """A scene file or dict that cannot be used; the message says why, in one line."""


@dataclass(frozen=True)
class SurfaceSpec:
    """Which loss surface: a preset name, or a typed expression with declared parameters.

    `preset` names a preset; `expression` then may still override its formula (the user
    edited it), else it is the preset's. `domain` is (xmin, xmax, ymin, ymax) or None for the
    preset's own (or [-5, 5]² for a custom expression). `height` is how the 3D view scales z.

    `network` (a `studio.network.NetworkSpec`) makes it a network scene instead: the runs
    train that network, and the views draw its training loss on a 2-D `plane` through the
    shared initial weights, "pca" (the paths' top two principal directions) or "random"
    (filter-normalised random directions); `preset` is then None and `expression` empty.

    For a data-fit preset, `reduction` says whether f is the "mean" (default) or the "sum" of
    the per-row loss over the rows (and a mini-batch gradient the mean or sum over its
    rows), and `data`, when not None, holds the scene's own (u, v) rows in place of the
    preset's (docs/algorithms.md#data-fit-surfaces).
    """

    preset: str | None = "rosenbrock"
    expression: str = ""
    params: Mapping[str, float] = field(default_factory=dict)
    domain: tuple[float, float, float, float] | None = None
    height: str = "auto"
    network: NetworkSpec | None = None
    plane: str = "pca"
    reduction: str = "mean"
    data: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True)
class RunSpec:
    """One optimizer run: its rule, hyperparameters and start points (one ball per start).

    `hyper` uses the canonical keys of docs/algorithms.md#common-keys (lr, momentum, beta1,
    schedule, step_size, grad_noise, batch_size, delay, workers, ...); missing keys take the
    optimizer's defaults. `grid` = (nx, ny) replaces `starts` by an nx×ny grid over the domain.
    """

    optimizer: str = "sgd"
    hyper: Mapping[str, HyperValue] = field(default_factory=dict)
    starts: tuple[tuple[float, float], ...] = ((0.0, 0.0),)
    grid: tuple[int, int] | None = None
    label: str = ""
    color: str = PALETTE[0]
    enabled: bool = True


@dataclass(frozen=True)
class Scene:
    surface: SurfaceSpec = field(default_factory=SurfaceSpec)
    runs: tuple[RunSpec, ...] = ()
    steps: int = 500
    seed: int = 0
    title: str = ""
    version: int = SCENE_VERSION
    lower_plot: str = "grad"  # a name in LOWER_PLOTS: what the loss view's lower plot shows

    def _repr_png_(self) -> bytes:
        """In Jupyter a scene shows as a still of its last step (rendered off screen)."""
        from studio.api import preview_png

        return preview_png(self)


# ----------------------------------------------------------------------------- to JSON


def scene_to_dict(scene: Scene) -> dict[str, Any]:
    s = scene.surface
    surface: dict[str, Any] = {
        "preset": s.preset,
        "expression": s.expression,
        "params": dict(s.params),
        "domain": list(s.domain) if s.domain is not None else None,
        "height": s.height,
    }
    if s.network is not None:
        surface.update(network=s.network.to_dict(), plane=s.plane)
    # Written only when used: a scene without them keeps the version that holds it.
    if s.reduction != "mean":
        surface["reduction"] = s.reduction
    if s.data is not None:
        surface["data"] = [list(row) for row in s.data]
    head: dict[str, Any] = {"version": written_version(scene), "title": scene.title}
    if scene.lower_plot != "grad":
        head["lower_plot"] = scene.lower_plot
    return {
        **head,
        "steps": scene.steps,
        "seed": scene.seed,
        "surface": surface,
        "runs": [
            {
                "optimizer": r.optimizer,
                "label": r.label,
                "color": r.color,
                "enabled": r.enabled,
                "hyper": dict(r.hyper),
                "starts": [list(p) for p in r.starts],
                "grid": list(r.grid) if r.grid is not None else None,
            }
            for r in scene.runs
        ],
    }


def written_version(scene: Scene) -> int:
    """The lowest scene version that holds everything `scene` sets."""
    s = scene.surface
    if scene.lower_plot != "grad" or s.reduction != "mean" or s.data is not None:
        return 3
    return 2 if scene.surface.network is not None else 1


def scene_to_json(scene: Scene) -> str:
    return json.dumps(scene_to_dict(scene), indent=2, allow_nan=False) + "\n"


def save_scene(scene: Scene, path: str | os.PathLike[str]) -> None:
    """Write atomically: a temporary file beside the target, renamed on success."""
    path = Path(path)
    text = scene_to_json(scene)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise SceneError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise SceneError(f"cannot write {path}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- from JSON


def load_scene(path: str | os.PathLike[str]) -> Scene:
    """Read and structurally validate a scene file; `SceneError` names the reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SceneError(
                f"{path.name}: file is {size} bytes, a scene is at most {MAX_FILE_BYTES}"
            )
        if not path.is_file():
            raise SceneError(f"{path.name}: not a regular file")
        with path.open("rb") as stream:  # read no more than the cap: the size can lie
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise SceneError(f"{path.name}: a scene is at most {MAX_FILE_BYTES} bytes")
    except SceneError:
        raise
    except OSError as exc:
        raise SceneError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(
            raw.decode("utf-8"), parse_constant=_reject_constant, parse_int=_parse_int
        )
    except UnicodeDecodeError:
        raise SceneError(f"{path.name}: not a text file (not UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise SceneError(
            f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise SceneError(f"{path.name}: JSON nested too deeply") from None
    except ValueError as exc:
        raise SceneError(f"{path.name}: {exc}") from None
    try:
        return scene_from_dict(data)
    except SceneError as exc:
        raise SceneError(f"{path.name}: {exc}") from None


def _parse_int(text: str) -> int:
    """JSON integers, refusing absurd ones (Python would print a cryptic digit-limit error)."""
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"a whole number has {len(text)} digits, at most {MAX_INT_DIGITS}")
    return int(text)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a scene file")


def scene_from_dict(data: Any) -> Scene:
    d = _mapping(
        data, "scene", {"version", "title", "steps", "seed", "surface", "runs", "lower_plot"}
    )
    version = d.get("version", SCENE_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise SceneError("'version' must be an integer")
    if version > SCENE_VERSION:
        raise SceneError(
            f"scene version {version} is newer than this studio understands "
            f"({SCENE_VERSION}); update Descent Studio"
        )
    if version < 1:
        raise SceneError(f"unknown scene version {version}")
    runs_raw = d.get("runs", [])
    if not isinstance(runs_raw, list):
        raise SceneError("'runs' must be a list")
    if len(runs_raw) > MAX_RUNS:
        raise SceneError(f"{len(runs_raw)} runs; a scene holds at most {MAX_RUNS}")
    surface = _surface_from_dict(d.get("surface", {}))
    lower_plot = d.get("lower_plot", "grad")
    if lower_plot not in LOWER_PLOTS:
        raise SceneError(f"'lower_plot' must be one of {', '.join(LOWER_PLOTS)}")
    if lower_plot in NETWORK_LOWER_PLOTS and surface.network is None:
        raise SceneError(f"'lower_plot' {lower_plot} needs a network surface")
    return Scene(
        surface=surface,
        runs=tuple(_run_from_dict(r, i) for i, r in enumerate(runs_raw)),
        steps=_int(d.get("steps", 500), "steps", 1, MAX_STEPS),
        seed=_int(d.get("seed", 0), "seed", 0, 2**63 - 1),
        title=_text(d.get("title", ""), "title"),
        lower_plot=lower_plot,
    )


def _surface_from_dict(data: Any) -> SurfaceSpec:
    d = _mapping(
        data,
        "surface",
        {
            "preset",
            "expression",
            "params",
            "domain",
            "height",
            "network",
            "plane",
            "reduction",
            "data",
        },
    )
    network = _network_from_dict(d["network"]) if d.get("network") is not None else None
    preset = d.get("preset")
    if preset is not None:
        preset = _text(preset, "surface.preset", 64)
    expression = _text(d.get("expression", ""), "surface.expression", MAX_EXPRESSION)
    if network is not None and (preset is not None or expression.strip()):
        raise SceneError("a network surface has no 'preset' or 'expression'")
    if network is None and preset is None and not expression.strip():
        raise SceneError("surface needs a 'preset' or an 'expression'")
    plane = d.get("plane", "pca")
    if plane not in PLANES:
        raise SceneError(f"surface.plane must be one of {', '.join(PLANES)}")
    params_raw = _mapping(d.get("params", {}), "surface.params", None)
    if len(params_raw) > MAX_HYPER:
        raise SceneError(f"surface.params has {len(params_raw)} entries, at most {MAX_HYPER}")
    params = {
        _text(k, "parameter name", 32): _float(v, f"surface.params.{k}")
        for k, v in params_raw.items()
    }
    domain_raw = d.get("domain")
    domain = None
    if domain_raw is not None:
        vals = _float_list(domain_raw, "surface.domain", 4)
        if not (vals[0] < vals[1] and vals[2] < vals[3]):
            raise SceneError("surface.domain must be [xmin, xmax, ymin, ymax] with min < max")
        domain = (vals[0], vals[1], vals[2], vals[3])
    height = d.get("height", "auto")
    if height not in HEIGHT_MODES:
        raise SceneError(f"surface.height must be one of {', '.join(HEIGHT_MODES)}")
    reduction = d.get("reduction", "mean")
    if reduction not in REDUCTIONS:
        raise SceneError(f"surface.reduction must be one of {', '.join(REDUCTIONS)}")
    rows = _data_rows(d["data"]) if d.get("data") is not None else None
    if network is not None and (reduction != "mean" or rows is not None):
        raise SceneError("a network surface has no 'reduction' or 'data'")
    return SurfaceSpec(
        preset=preset,
        expression=expression,
        params=params,
        domain=domain,
        height=height,
        network=network,
        plane=plane,
        reduction=reduction,
        data=rows,
    )


def _data_rows(value: Any) -> tuple[tuple[float, float], ...]:
    """surface.data: a list of 1..MAX_DATA_ROWS [u, v] pairs of finite numbers."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_DATA_ROWS:
        raise SceneError(f"surface.data must be a list of 1 to {MAX_DATA_ROWS} [u, v] rows")
    rows = []
    for i, row in enumerate(value):
        u, v = _float_list(row, f"surface.data[{i}]", 2)
        rows.append((u, v))
    return tuple(rows)


def _network_from_dict(data: Any) -> NetworkSpec:
    from studio.network.model import NetworkError, NetworkSpec

    try:
        return NetworkSpec.from_dict(_mapping(data, "surface.network", None))
    except NetworkError as exc:
        raise SceneError(f"surface.network: {exc}") from None


def _run_from_dict(data: Any, index: int) -> RunSpec:
    where = f"runs[{index}]"
    d = _mapping(data, where, {"optimizer", "label", "color", "enabled", "hyper", "starts", "grid"})
    if "optimizer" not in d:
        raise SceneError(f"{where} has no 'optimizer'")
    hyper_raw = _mapping(d.get("hyper", {}), f"{where}.hyper", None)
    if len(hyper_raw) > MAX_HYPER:
        raise SceneError(f"{where}.hyper has {len(hyper_raw)} entries, at most {MAX_HYPER}")
    hyper: dict[str, HyperValue] = {}
    for k, v in hyper_raw.items():
        key = _text(k, f"{where}.hyper key", 32)
        if isinstance(v, str):
            hyper[key] = _text(v, f"{where}.hyper.{key}", 32)
        elif isinstance(v, int) and not isinstance(v, bool):
            hyper[key] = v
        else:
            hyper[key] = _float(v, f"{where}.hyper.{key}")
    starts_raw = d.get("starts", [[0.0, 0.0]])
    if not isinstance(starts_raw, list) or len(starts_raw) > MAX_STARTS:
        raise SceneError(f"{where}.starts must be a list of at most {MAX_STARTS} [x, y] pairs")
    starts = tuple(
        tuple(_float_list(p, f"{where}.starts[{j}]", 2)) for j, p in enumerate(starts_raw)
    )
    grid_raw = d.get("grid")
    grid = None
    if grid_raw is not None:
        if not isinstance(grid_raw, list) or len(grid_raw) != 2:
            raise SceneError(f"{where}.grid must be [nx, ny] or null")
        grid = (
            _int(grid_raw[0], f"{where}.grid", 1, MAX_GRID),
            _int(grid_raw[1], f"{where}.grid", 1, MAX_GRID),
        )
    if not starts and grid is None:
        raise SceneError(f"{where} has no start point")
    color = _text(d.get("color", PALETTE[index % len(PALETTE)]), f"{where}.color", 16)
    if not (
        len(color) == 7
        and color.startswith("#")
        and all(c in "0123456789abcdefABCDEF" for c in color[1:])
    ):
        raise SceneError(f"{where}.color must look like #1f77b4")
    enabled = d.get("enabled", True)
    if not isinstance(enabled, bool):
        raise SceneError(f"{where}.enabled must be true or false")
    return RunSpec(
        optimizer=_text(d["optimizer"], f"{where}.optimizer", 32),
        hyper=hyper,
        starts=starts,  # type: ignore[arg-type]
        grid=grid,
        label=_text(d.get("label", ""), f"{where}.label", 80),
        color=color.lower(),
        enabled=enabled,
    )


# ------------------------------------------------------------------------ field checks


def _mapping(value: Any, where: str, allowed: set[str] | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SceneError(f"'{where}' must be an object")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise SceneError(f"unknown field '{unknown[0]}' in {where}")
    return value


def _text(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise SceneError(f"'{where}' must be text")
    if len(value) > limit:
        raise SceneError(f"'{where}' is {len(value)} characters, at most {limit}")
    try:  # a lone surrogate ("\ud800") parses from JSON but no file or terminal can take it
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SceneError(
            f"'{where}' holds a character that is not valid Unicode "
            f"(U+{ord(value[exc.start]):04X} at position {exc.start})"
        ) from None
    return value


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SceneError(f"'{where}' must be a number")
    try:
        out = float(value)
    except OverflowError:
        raise SceneError(f"'{where}' is too large") from None
    if not math.isfinite(out):
        raise SceneError(f"'{where}' must be finite")
    return out


def _float_list(value: Any, where: str, n: int) -> list[float]:
    if not isinstance(value, list) or len(value) != n:
        raise SceneError(f"'{where}' must be a list of {n} numbers")
    return [_float(v, where) for v in value]


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SceneError(f"'{where}' must be a whole number")
    if not lo <= value <= hi:
        raise SceneError(f"'{where}' = {value} is outside {lo}..{hi}")
    return value
