"""studio.editing: the scene-editing rules the window and the command line share."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from studio.commands.scene_args import add_scene_arguments, scene_from_args
from studio.editing import (
    RESERVED_NAMES,
    ParamsError,
    custom_surface,
    new_run,
    next_color,
    parse_params,
    pick_preset,
    retarget_run,
)
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec
from studio.surface import PRESETS, surface_from_spec
from studio.surface.parser import RESERVED, check_params


def cli_scene(*argv: str) -> Scene:
    parser = argparse.ArgumentParser()
    add_scene_arguments(parser)
    return scene_from_args(parser.parse_args(list(argv)))


def test_loads_no_qt() -> None:
    code = (
        "import sys, studio.editing\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_parse_params() -> None:
    assert parse_params("a=1, b=100") == {"a": 1.0, "b": 100.0}
    assert parse_params(" k = -2.5e-3 ,") == {"k": -0.0025}
    for text, reason in (
        ("a", "not name=value"),
        ("a=1, a=2", "twice"),
        ("a=x", "not a number"),
        ("a=inf", "finite"),
        ("1a=2", "name=value"),
    ):
        with pytest.raises(ParamsError, match=reason):
            parse_params(text)


@pytest.mark.parametrize("name", sorted(RESERVED) + ["if", "lambda"])
def test_reserved_names_agree_with_the_parser(name: str) -> None:
    assert RESERVED_NAMES is RESERVED
    with pytest.raises(ParamsError, match="reserved"):
        parse_params(f"{name}=1")


def test_every_name_the_line_accepts_the_parser_accepts() -> None:
    params = parse_params("a=1, b_2=3, alpha=0.5, Gamma=2")
    assert check_params(params) == params


def test_cli_surface_param_uses_the_same_rule() -> None:
    with pytest.raises(SystemExit):
        cli_scene(
            "--surface",
            "x**2 + u*y**2",
            "--surface-param",
            "u=2",
            "--optimizer",
            "sgd",
            "--start",
            "1,1",
        )


def test_new_run_defaults() -> None:
    scene = Scene(
        surface=SurfaceSpec(preset="himmelblau"), runs=(RunSpec("sgd", color=PALETTE[0]),)
    )
    run = new_run(scene, "adam", hyper={"beta2": 0.99})
    preset = PRESETS["himmelblau"]
    assert run.hyper == {**preset.suggested["adam"], "beta2": 0.99}
    assert run.starts == (tuple(map(float, preset.starts[0])),)
    assert run.color == PALETTE[1] == next_color(scene.runs)
    custom = Scene(surface=SurfaceSpec(preset=None, expression="x^2 + y^2"))
    assert new_run(custom, "sgd", near=(1.0, 2.0)).starts == ((1.0, 2.0),)
    assert new_run(custom, "sgd", domain=(0.0, 2.0, -4.0, 0.0)).starts == ((1.0, -2.0),)
    assert new_run(custom, "sgd", near=(1.0, 2.0)).hyper == {}


@pytest.mark.parametrize("surface", ["rosenbrock", "beale", "himmelblau"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
def test_cli_runs_get_the_window_defaults(surface: str, optimizer: str) -> None:
    scene = cli_scene("--surface", surface, "--optimizer", optimizer, "--optimizer", "sgd")
    draft = Scene(surface=scene.surface)
    first = new_run(draft, optimizer)
    assert scene.runs[0] == first
    second = new_run(Scene(surface=scene.surface, runs=(first,)), "sgd")
    assert scene.runs[1] == second


def test_retarget_and_pick_preset() -> None:
    run = RunSpec("sgd", {"lr": 1.0, "batch_size": 4}, ((9.0, 9.0),))
    preset = PRESETS["beale"]
    moved = retarget_run(run, preset)
    assert moved.starts == (tuple(map(float, preset.starts[0])),)
    assert moved.hyper == {**preset.suggested.get("sgd", {})} and "batch_size" not in moved.hyper
    scene = pick_preset(Scene(runs=(run,), title="old"), "beale")
    assert scene.surface.preset == "beale" and scene.title == "" and scene.runs == (moved,)
    surface_from_spec(scene.surface)


def test_leaving_a_preset_drops_what_the_new_formula_does_not_use() -> None:
    rosen = SurfaceSpec(preset="rosenbrock", height="log1p")
    domain = (-2.0, 2.0, -1.0, 3.0)
    bowl = custom_surface(rosen, "x^2 + y^2", domain)
    assert bowl.preset is None and dict(bowl.params) == {} and bowl.height == "auto"
    assert bowl.domain == domain
    half = custom_surface(rosen, "(a - x)^2 + y^2", domain)
    assert dict(half.params) == {"a": 1.0}
    # Custom keeps the preset's formula: it still uses a, b and the height suits it.
    same = custom_surface(rosen, PRESETS["rosenbrock"].expression, domain)
    assert dict(same.params) == {"a": 1.0, "b": 100.0} and same.height == "log1p"
    # ...and a formula typed after that leaves them behind too.
    assert dict(custom_surface(same, "x^2 + y^2", domain).params) == {}
    # Parameters the user declared for a custom formula stay while typing.
    declared = SurfaceSpec(
        preset=None, expression="k*x^2", params={"k": 2.0, "m": 1.0}, height="linear"
    )
    kept = custom_surface(declared, "k*x^2 + y^2", domain)
    assert dict(kept.params) == {"k": 2.0, "m": 1.0} and kept.height == "linear"


def test_a_new_run_without_a_start_avoids_a_hole_of_f() -> None:
    from studio.editing import defined_start
    from studio.surface import make_surface

    ring = make_surface("log(x^2 + y^2 - 4)")  # undefined within radius 2 of the centre
    x, y = defined_start(ring.domain, ring)
    assert x * x + y * y > 4
    assert defined_start(ring.domain, None) == (0.0, 0.0)
    assert defined_start((-5.0, 5.0, -5.0, 5.0), make_surface("x^2 + y^2")) == (0.0, 0.0)
