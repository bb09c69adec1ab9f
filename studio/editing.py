"""Scene-editing rules shared by the window and the command line (Qt-free).

Every way of making or changing a scene goes through these functions, so a run added in
the window and a run given as `--optimizer` on the command line get the same defaults:

- a new run takes the surface preset's suggested hyperparameters for its optimizer
  (values the user gives win), the preset's first classic start, and the first palette
  colour no run uses yet;
- picking a preset moves every run onto it (its first classic start, its suggestions) and
  drops the keys only a data-fit surface honours;
- leaving a preset's formula for another drops the preset's parameters the new formula no
  longer uses and the preset's height mode;
- a run written as text (`adam:lr=0.05,beta2=0.99@-6,-6`, the command line's `--optimizer`)
  is read by `parse_run_text`: each value by its registry kind, each `@X,Y` a start of that
  run alone;
- surface parameters are read from `a=1, b=100` with the expression parser's own reserved
  names (`studio.surface.syntax.RESERVED`: the variables, data columns, constants and
  function names), so a name accepted here is never refused by the parser.

See docs/architecture.md (scene editing).
"""

from __future__ import annotations

import dataclasses
import keyword
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from studio.engine.objective import Objective
from studio.engine.starts import start_problems
from studio.errors import StudioError
from studio.scene import PALETTE, HyperValue, RunSpec, Scene, SurfaceSpec
from studio.surface import PRESETS, ExpressionError, Preset
from studio.surface.syntax import MAX_MAGNITUDE, RESERVED

Point = tuple[float, float]
Domain = tuple[float, float, float, float]

# The names a surface parameter may not take: exactly the expression parser's.
RESERVED_NAMES = RESERVED
# Keys that only make sense on a data-fit surface; dropped when a preset without data is
# picked, so a run does not carry a batch size the new surface cannot honour.
DATA_FIT_KEYS = ("batch_size", "batch_order", "stop_on")
AUTO_HEIGHT = "auto"

_PARAM_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+)\s*$")


class ParamsError(StudioError):
    """A `name=value, ...` parameter line that cannot be read (one line)."""


class NoStartError(StudioError):
    """A new run on a surface with no classic start, and no start given or implied."""


class RunTextError(StudioError):
    """A run written as text (`adam:lr=0.05@-6,-6`) that cannot be read (one line)."""


# ----------------------------------------------------------------------------- parameters


def parse_param(text: str) -> tuple[str, float]:
    """`a=2.5` -> ("a", 2.5); ParamsError says what is wrong with it."""
    match = _PARAM_RE.match(text)
    if match is None:
        raise ParamsError(f"'{text.strip()}' is not name=value")
    name, raw = match.groups()
    if name in RESERVED_NAMES or keyword.iskeyword(name):
        raise ParamsError(f"'{name}' is reserved and cannot be a parameter")
    try:
        value = float(raw)
    except ValueError:
        raise ParamsError(f"'{raw}' is not a number (parameter '{name}')") from None
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise ParamsError(f"parameter '{name}' must be a finite number")
    return name, value


def parse_params(text: str) -> dict[str, float]:
    """Read `a=1, b=100` into a dict; ParamsError names the first bad entry."""
    params: dict[str, float] = {}
    for chunk in text.split(","):
        if not chunk.strip():
            continue
        name, value = parse_param(chunk)
        if name in params:
            raise ParamsError(f"parameter '{name}' is given twice")
        params[name] = value
    return params


def format_params(params: Mapping[str, float]) -> str:
    """The line `parse_params` reads back: `a=1, b=100`."""
    return ", ".join(f"{name}={value:.6g}" for name, value in params.items())


# ----------------------------------------------------------------------------- runs as text

_NUMBER_RE = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# Starts a single run may carry in its text; more than that belongs in a scene file.
MAX_RUN_TEXT_STARTS = 64


@dataclasses.dataclass(frozen=True)
class RunText:
    """What `parse_run_text` reads: the optimizer, the hyperparameters given (values parsed,
    not yet validated) and the run's own starts (empty: the caller's default starts)."""

    optimizer: str
    hyper: dict[str, HyperValue]
    starts: tuple[Point, ...] = ()


def parse_run_text(text: str) -> RunText:
    """`NAME[:key=value,...][@X,Y]...` -> RunText.

    `adam:lr=0.4,beta2=0.99@-6,-6@1,2` is Adam with two hyperparameters and two starts of
    its own. Each value is parsed by the registry's kind for the key (an int key takes a
    whole number, a choice key its text); unknown keys are kept as text so that
    `validate_hyper` names them with the allowed ones. RunTextError says what is wrong.
    """
    from studio.engine import hyper_info

    head, *points = text.split("@")
    name, _, rest = head.partition(":")
    name = name.strip()
    if not name:
        raise RunTextError(f"{text!r}: expected an optimizer name first, e.g. adam:lr=0.05")
    hyper: dict[str, HyperValue] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise RunTextError(f"{text}: expected key=value, got {item!r}")
        if key in hyper:
            raise RunTextError(f"{text}: {key} given twice")
        info = hyper_info(name, key)
        if info is None or info.kind == "choice":
            hyper[key] = value
        elif info.kind == "int" and re.fullmatch(r"[-+]?\d+", value):
            hyper[key] = int(value)
        elif re.fullmatch(_NUMBER_RE, value) or value.lower() in ("inf", "-inf", "nan"):
            hyper[key] = float(value)
        else:
            raise RunTextError(f"{name}: {key} must be a number, got {value!r}")
    if len(points) > MAX_RUN_TEXT_STARTS:
        raise RunTextError(f"{text}: at most {MAX_RUN_TEXT_STARTS} starts per run")
    return RunText(name, hyper, tuple(_run_text_start(text, p) for p in points))


def _run_text_start(text: str, point: str) -> Point:
    parts = [p.strip() for p in point.split(",")]
    if len(parts) != 2 or not all(re.fullmatch(_NUMBER_RE, p) for p in parts):
        raise RunTextError(f"{text}: a start after @ must be X,Y (two numbers), got {point!r}")
    x, y = float(parts[0]), float(parts[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise RunTextError(f"{text}: a start must be finite, got {point!r}")
    return x, y


def format_run_text(
    optimizer: str, hyper: Mapping[str, HyperValue], starts: Sequence[Point] = ()
) -> str:
    """The text `parse_run_text` reads back: `adam:lr=0.4@-6,-6`."""
    out = optimizer
    if hyper:
        out += ":" + ",".join(
            f"{k}={v!r}" if isinstance(v, float) else f"{k}={v}" for k, v in hyper.items()
        )
    # repr: the shortest text that reads back as the same float.
    return out + "".join(f"@{float(x)!r},{float(y)!r}" for x, y in starts)


# ----------------------------------------------------------------------------- runs


def preset_of(spec: SurfaceSpec) -> Preset | None:
    return PRESETS.get(spec.preset or "")


def next_color(runs: Sequence[RunSpec]) -> str:
    """The first palette colour no run uses yet (cycling once all are taken)."""
    used = {run.color.lower() for run in runs}
    for color in PALETTE:
        if color not in used:
            return color
    return PALETTE[len(runs) % len(PALETTE)]


def suggested_hyper(spec: SurfaceSpec, optimizer: str) -> dict[str, HyperValue]:
    """The surface preset's suggested hyperparameters for `optimizer` (empty without one)."""
    preset = preset_of(spec)
    return dict(preset.suggested.get(optimizer, {})) if preset is not None else {}


def classic_start(spec: SurfaceSpec) -> Point | None:
    """The surface preset's first classic start, None for a surface without one."""
    preset = preset_of(spec)
    if preset is None or not preset.starts:
        return None
    x, y = preset.starts[0]
    return float(x), float(y)


def domain_centre(domain: Domain) -> Point:
    xmin, xmax, ymin, ymax = domain
    return (xmin + xmax) / 2.0, (ymin + ymax) / 2.0


def defined_start(domain: Domain, objective: Objective | None, n: int = 21) -> Point:
    """The domain's centre, or, where f is undefined there (a hole, see
    docs/algorithms.md#undefined-regions), the point of an n×n grid nearest the centre where a
    ball can start; the centre when the grid has no such point (the engine then refuses it)."""
    centre = domain_centre(domain)
    if objective is None:
        return centre
    xmin, xmax, ymin, ymax = domain
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
    points = np.concatenate([[centre], np.column_stack([gx.ravel(), gy.ravel()])])
    order = np.argsort(np.hypot(points[:, 0] - centre[0], points[:, 1] - centre[1]), kind="stable")
    problems = start_problems(objective, points[order])
    for index, problem in zip(order, problems, strict=True):
        if problem is None:
            return float(points[index, 0]), float(points[index, 1])
    return centre


def new_run(
    scene: Scene,
    optimizer: str,
    *,
    hyper: Mapping[str, HyperValue] | None = None,
    starts: tuple[Point, ...] | None = None,
    grid: tuple[int, int] | None = None,
    near: Point | None = None,
    domain: Domain | None = None,
    objective: Objective | None = None,
) -> RunSpec:
    """A run of `optimizer` that fits `scene`'s surface, to append to `scene.runs`.

    Hyperparameters: the preset's suggestions overlaid with `hyper`. Starts: `starts` (or
    `grid`) when given, else the preset's first classic start, else `near` (the window
    passes the selected run's start), else the centre of `domain` (or, when `objective` is
    given and f is undefined there, the nearest point where it is defined). NoStartError when none
    of these gives a start (the command line then asks for `--start`).
    """
    merged = {**suggested_hyper(scene.surface, optimizer), **dict(hyper or {})}
    if starts is None and grid is None:
        start = classic_start(scene.surface) or near
        if start is None and domain is not None:
            start = defined_start(domain, objective)
        if start is None:
            raise NoStartError("this surface has no classic start: give one")
        starts = (start,)
    return RunSpec(
        optimizer=optimizer,
        hyper=merged,
        starts=starts or (),
        grid=grid,
        color=next_color(scene.runs),
    )


def change_optimizer(run: RunSpec, optimizer: str, spec: SurfaceSpec) -> RunSpec:
    """`run` with another optimizer: the keys the new one understands (lr, schedule,
    noise...) stay, the others go (momentum on Adam would be refused), then the preset's
    suggestions for the new optimizer apply."""
    from studio.engine import OPTIMIZERS

    allowed = OPTIMIZERS[optimizer].allowed
    hyper = {k: v for k, v in run.hyper.items() if k in allowed}
    hyper.update(suggested_hyper(spec, optimizer))
    return dataclasses.replace(run, optimizer=optimizer, hyper=hyper)


def retarget_run(run: RunSpec, preset: Preset) -> RunSpec:
    """`run` moved onto `preset`: its first classic start and its suggested hyperparameters."""
    hyper = dict(run.hyper)
    if not preset.data_fit:
        for key in DATA_FIT_KEYS:
            hyper.pop(key, None)
    hyper.update(preset.suggested.get(run.optimizer, {}))
    starts = (
        ((float(preset.starts[0][0]), float(preset.starts[0][1])),) if preset.starts else run.starts
    )
    return dataclasses.replace(run, hyper=hyper, starts=starts)


# ----------------------------------------------------------------------------- surfaces


def preset_spec(name: str, height: str) -> SurfaceSpec:
    """The spec of preset `name`, on its own domain, keeping the window's height mode."""
    preset = PRESETS[name]
    xmin, xmax, ymin, ymax = (float(v) for v in preset.domain)
    return SurfaceSpec(
        preset=name,
        expression="",
        params=dict(preset.params),
        domain=(xmin, xmax, ymin, ymax),
        height=height,
    )


def pick_preset(scene: Scene, name: str) -> Scene:
    """`scene` on preset `name`: every run retargeted (see `retarget_run`), the title gone
    (it described the old function)."""
    preset = PRESETS[name]
    runs = tuple(retarget_run(run, preset) for run in scene.runs)
    return dataclasses.replace(
        scene, surface=preset_spec(name, scene.surface.height), runs=runs, title=""
    )


def effective_expression(spec: SurfaceSpec) -> str:
    """The formula a spec stands for: its own, else its preset's ('' when neither)."""
    if spec.expression.strip():
        return spec.expression
    preset = preset_of(spec)
    return preset.expression if preset is not None else ""


def effective_params(spec: SurfaceSpec) -> dict[str, float]:
    """The spec's parameters, else its preset's."""
    preset = preset_of(spec)
    return dict(spec.params) or (dict(preset.params) if preset is not None else {})


def formula_preset(spec: SurfaceSpec) -> Preset | None:
    """The preset whose formula `spec` shows: its own, or (after Custom) the preset whose
    formula it still carries, so the preset's extras can go once the formula changes."""
    preset = preset_of(spec)
    if preset is not None:
        return preset
    text = spec.expression.strip()
    return next((p for p in PRESETS.values() if not p.data_fit and p.expression == text), None)


def used_params(expression: str, params: Mapping[str, float]) -> dict[str, float]:
    """The entries of `params` that `expression` uses (all of them if it does not parse:
    the parser then reports the real problem)."""
    from studio.surface.parser import parse_expression  # sympy: loaded only when needed

    try:
        names = {str(s) for s in parse_expression(expression, params).free_symbols}
    except ExpressionError:
        return dict(params)
    return {name: value for name, value in params.items() if name in names}


def custom_surface(spec: SurfaceSpec, expression: str, domain: Domain) -> SurfaceSpec:
    """The user's own surface `expression`, leaving `spec` (a preset or a custom formula).

    It keeps the domain it was shown on, so the view does not jump. The parameters and the
    height mode of the preset the old formula came from go when the new formula no longer
    uses them (a Rosenbrock `a=1, b=100` and its log1p height mean nothing to `x^2 + y^2`);
    parameters the user declared for a custom formula stay.
    """
    params = effective_params(spec)
    height = spec.height
    preset = formula_preset(spec)
    if preset is not None and expression.strip() != preset.expression:
        kept = used_params(expression, params)
        params = {k: v for k, v in params.items() if k in kept or k not in preset.params}
        if height == preset.height:
            height = AUTO_HEIGHT
    return SurfaceSpec(
        preset=None, expression=expression, params=params, domain=domain, height=height
    )
