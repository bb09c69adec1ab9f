"""The scene flags shared by `studio trace` and `studio render`.

    studio trace [SCENE.json] [--surface PRESET|EXPR] [--surface-param NAME=VALUE]...
                 [--domain XMIN,XMAX,YMIN,YMAX] [--reduction mean|sum] [--data ROWS.csv]
                 [--optimizer NAME[:key=value,...][@X,Y...]]...
                 [--start X,Y]... | [--start-grid NXxNY] [--steps N] [--seed S]
                 [--network TASK[:hidden=16x8,activation=sigmoid,init_seed=0] [--plane pca|random]]

A scene file is the base; each flag given replaces that part of it (`--optimizer` replaces
all runs, `--start`/`--start-grid` the starts of every run). An `--optimizer` with starts of
its own (`adam:lr=0.4@-6,-6`, each `@X,Y` one start) keeps them; `--start`/`--start-grid`
are the starts of the runs that give none. Without a file the surface is
Rosenbrock unless `--surface` says otherwise and at least one `--optimizer` is needed. Each
`--optimizer` run gets the defaults a run added in the window gets (`studio.editing.new_run`:
the preset's suggested hyperparameters under the ones given, its first classic start, the
next free colour). The run's text is read by `studio.editing.parse_run_text`: values by the
engine registry's kind for the key (`adam:lr=0.05,beta2=0.99`, `sgd:schedule=step,step_size=50`).

`--reduction sum` makes a data-fit surface the sum of its per-row loss instead of the mean
(the convention of articles that sum the gradient over their rows), `--data ROWS.csv` gives
it rows of its own (`studio.surface.datafit.parse_rows_csv`: a `u,v` header or none, two
numbers a line).

`--network` makes a network scene instead of a surface one (`studio.network.landscape`): the
runs train that network from its shared initial weights and are drawn on one landscape
plane (`--plane`); a scene too large to keep in memory is refused before training.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from studio.editing import NoStartError, ParamsError, new_run, parse_run_text
from studio.editing import parse_param as parse_surface_param
from studio.errors import StudioError
from studio.scene import (
    NETWORK_LOWER_PLOTS,
    HyperValue,
    RunSpec,
    Scene,
    SceneError,
    SurfaceSpec,
    load_scene,
    scene_from_dict,
    scene_to_dict,
)

if TYPE_CHECKING:
    from studio.network.model import NetworkSpec

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


class SceneArgsError(StudioError):
    """An inline scene flag that cannot be used (one line)."""


def _floats(text: str, n: int, what: str) -> tuple[float, ...]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != n or not all(re.fullmatch(_NUMBER, p) for p in parts):
        raise argparse.ArgumentTypeError(
            f"{what} must be {n} numbers separated by commas, got {text!r}"
        )
    return tuple(float(p) for p in parts)


def parse_point(text: str) -> tuple[float, float]:
    """`-1.5,2` -> (-1.5, 2.0)."""
    x, y = _floats(text, 2, "a start")
    return x, y


def parse_domain(text: str) -> tuple[float, float, float, float]:
    """`-2,2,-1,3` -> (-2, 2, -1, 3), with min < max on both axes."""
    d = _floats(text, 4, "the domain")
    if not (d[0] < d[1] and d[2] < d[3]):
        raise argparse.ArgumentTypeError("the domain must be XMIN,XMAX,YMIN,YMAX with min < max")
    return d[0], d[1], d[2], d[3]


def parse_grid(text: str) -> tuple[int, int]:
    """`8x6` -> (8, 6)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m or not (1 <= int(m.group(1)) <= 64 and 1 <= int(m.group(2)) <= 64):
        raise argparse.ArgumentTypeError(
            f"a start grid must look like 8x6 (1..64 each), got {text!r}"
        )
    return int(m.group(1)), int(m.group(2))


def parse_param(text: str) -> tuple[str, float]:
    """`a=2.5` -> ("a", 2.5), by the same rule as the window's parameter line."""
    try:
        return parse_surface_param(text)
    except ParamsError as exc:
        raise argparse.ArgumentTypeError(
            f"a surface parameter must look like a=2.5: {exc}"
        ) from None


def add_scene_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the scene file and the inline scene flags to `parser`."""
    # Let "-1.5,2" be a value, not an option: none of these flags looks like a number.
    parser._negative_number_matcher = re.compile(r"^-\.?\d")
    parser.add_argument(
        "scene",
        nargs="?",
        type=Path,
        metavar="SCENE.json",
        help="a scene file; the flags below override parts of it",
    )
    g = parser.add_argument_group("scene")
    g.add_argument(
        "--surface",
        metavar="PRESET|EXPR",
        help="a preset name (e.g. rosenbrock) or a formula in x and y",
    )
    g.add_argument(
        "--surface-param",
        action="append",
        type=parse_param,
        default=[],
        metavar="NAME=VALUE",
        help="a value for a parameter of the formula",
    )
    g.add_argument(
        "--domain",
        type=parse_domain,
        metavar="XMIN,XMAX,YMIN,YMAX",
        help="the region shown (and where a start grid lies)",
    )
    g.add_argument(
        "--reduction",
        choices=("mean", "sum"),
        default=None,
        help="a data-fit surface's loss: the mean (default) or the sum of the per-row loss "
        "over its rows",
    )
    g.add_argument(
        "--data",
        type=Path,
        metavar="ROWS.csv",
        help="(u, v) rows for a data-fit surface instead of the preset's: a CSV with the "
        "header u,v (or none) and two numbers a line",
    )
    g.add_argument(
        "--network",
        metavar="TASK[:key=value,...]",
        help="train a network instead of descending a surface, e.g. "
        "digits01:hidden=16x8,activation=sigmoid,init_seed=0 (tasks: digits01, "
        "digits; activations: sigmoid, tanh, relu); every run starts from the "
        "same initial weights",
    )
    g.add_argument(
        "--plane",
        choices=("pca", "random"),
        default=None,
        help="the landscape plane of a network: the paths' principal directions "
        "(pca, default) or filter-normalised random directions",
    )
    g.add_argument(
        "--optimizer",
        action="append",
        default=[],
        metavar="NAME[:key=value,...][@X,Y...]",
        help="an optimizer run, e.g. adam:lr=0.05,beta2=0.99 (repeatable); "
        "@X,Y gives this run its own start (adam:lr=0.4@-6,-6; repeat @ for "
        "more), the others start at --start / --start-grid",
    )
    starts = g.add_mutually_exclusive_group()
    starts.add_argument(
        "--start",
        action="append",
        type=parse_point,
        default=[],
        metavar="X,Y",
        help="a start point of every run that gives none with @X,Y (repeatable)",
    )
    starts.add_argument(
        "--start-grid",
        type=parse_grid,
        metavar="NXxNY",
        help="an NX × NY grid of starts over the domain, for every run that gives none with @X,Y",
    )
    g.add_argument("--steps", type=int, metavar="N", help="number of updates (default 500)")
    g.add_argument("--seed", type=int, metavar="S", help="random seed (default 0)")


def parse_optimizer(text: str) -> tuple[str, dict[str, HyperValue]]:
    """`adam:lr=0.05,beta2=0.99` -> ("adam", {"lr": 0.05, "beta2": 0.99}); any `@X,Y`
    starts are read and dropped (see `studio.editing.parse_run_text` for the whole run)."""
    parsed = parse_run_text(text)
    return parsed.optimizer, parsed.hyper


def parse_network(text: str) -> NetworkSpec:
    """`digits01:hidden=16x8,activation=tanh` -> its NetworkSpec (SceneArgsError if bad)."""
    from studio.network.model import NetworkError, NetworkSpec

    try:
        return NetworkSpec.parse(text)
    except NetworkError as exc:
        raise SceneArgsError(f"--network {text}: {exc}") from None


def _surface(args: argparse.Namespace, base: SurfaceSpec | None) -> SurfaceSpec:
    from studio.surface import PRESETS

    spec = base or SurfaceSpec()
    network_text = getattr(args, "network", None)
    if network_text is not None:
        if (
            args.surface is not None
            or args.surface_param
            or args.domain is not None
            or getattr(args, "reduction", None) is not None
            or getattr(args, "data", None) is not None
        ):
            raise SceneArgsError(
                "--network replaces the surface: leave out --surface, --surface-param, "
                "--domain, --reduction and --data"
            )
        spec = SurfaceSpec(
            preset=None,
            network=parse_network(network_text),
            plane=spec.plane if spec.network is not None else "pca",
        )
    if getattr(args, "plane", None) is not None:
        if spec.network is None:
            raise SceneArgsError("--plane applies to a network (--network)")
        spec = replace(spec, plane=args.plane)
    if spec.network is not None:
        return spec
    if args.surface is not None:
        text = args.surface.strip()
        if text in PRESETS:
            spec = SurfaceSpec(preset=text, height=PRESETS[text].height)
        else:
            spec = SurfaceSpec(preset=None, expression=text)
    if args.surface_param:
        spec = replace(spec, params={**dict(spec.params), **dict(args.surface_param)})
    if args.domain is not None:
        spec = replace(spec, domain=args.domain)
    if getattr(args, "reduction", None) is not None:
        spec = replace(spec, reduction=args.reduction)
    if getattr(args, "data", None) is not None:
        from studio.surface.datafit import read_rows_file

        spec = replace(spec, data=read_rows_file(args.data))
    if (spec.reduction != "mean" or spec.data is not None) and not _data_fit(spec):
        raise SceneArgsError(
            "--reduction and --data apply to a data-fit surface ("
            + ", ".join(n for n, p in PRESETS.items() if p.data_fit)
            + ")"
        )
    return spec


def _data_fit(spec: SurfaceSpec) -> bool:
    from studio.surface import PRESETS

    preset = PRESETS.get(spec.preset) if spec.preset is not None else None
    return bool(preset is not None and preset.data_fit)


def scene_from_args(args: argparse.Namespace) -> Scene:
    """The scene that the file and the flags describe, validated like a scene file."""
    from studio.engine import validate_hyper

    base = load_scene(args.scene) if args.scene is not None else None
    surface = _surface(args, base.surface if base else None)
    network = surface.network is not None
    if network and (args.start or grid_given(args)):
        raise SceneArgsError(
            "a network run starts from the network's initial weights: "
            "--start and --start-grid apply to surfaces only"
        )
    if surface.preset is None and surface.network is None:
        from studio.surface.syntax import check_formula

        # A mistyped formula is the first thing to tell (not, say, a run's missing start);
        # the parser's own walk, without sympy.
        check_formula(surface.expression, surface.params)
    starts: tuple[tuple[float, float], ...] | None = tuple(args.start) or None
    grid: tuple[int, int] | None = args.start_grid

    runs: list[RunSpec]
    if args.optimizer:
        draft = Scene(surface=surface)
        for text in args.optimizer:
            parsed = parse_run_text(text)
            own = parsed.starts or None
            if network and own:
                raise SceneArgsError(
                    "a network run starts from the network's initial "
                    "weights: @X,Y applies to surfaces only"
                )
            try:
                run = new_run(
                    draft,
                    parsed.optimizer,
                    hyper=parsed.hyper,
                    starts=((0.0, 0.0),) if network else (own or starts),
                    grid=None if (own or network) else grid,
                )
            except NoStartError:
                raise SceneArgsError(
                    f"{parsed.optimizer}: this surface has no classic start: "
                    "give --start X,Y, --start-grid NXxNY or "
                    f"--optimizer {parsed.optimizer}@X,Y"
                ) from None
            draft = replace(draft, runs=draft.runs + (run,))
        runs = list(draft.runs)
    elif base is not None and base.runs:
        runs = list(base.runs)
        if starts is not None or grid is not None:
            runs = [replace(r, starts=starts or (), grid=grid) for r in runs]
    else:
        raise SceneArgsError("nothing to trace: give a SCENE.json or at least one --optimizer")

    scene = Scene(
        surface=surface,
        runs=tuple(runs),
        steps=args.steps if args.steps is not None else (base.steps if base else 500),
        seed=args.seed if args.seed is not None else (base.seed if base else 0),
        title=base.title if base else "",
        # The file's lower plot, unless the flags made a network scene a surface one.
        lower_plot=base.lower_plot
        if base and (network or base.lower_plot not in NETWORK_LOWER_PLOTS)
        else "grad",
    )
    try:  # the same structural limits as a file (step count, sizes, colours)
        scene = scene_from_dict(scene_to_dict(scene))
    except SceneError as exc:
        raise SceneArgsError(str(exc)) from None
    for run in scene.runs:
        validate_hyper(run.optimizer, run.hyper)
    if scene.surface.network is not None:  # too large to keep: refused before training
        from studio.engine import check_size

        check_size(sum(r.enabled for r in scene.runs), scene.steps, scene.surface.network.n_params)
    return scene


def grid_given(args: argparse.Namespace) -> bool:
    return getattr(args, "start_grid", None) is not None
