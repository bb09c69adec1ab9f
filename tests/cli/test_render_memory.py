"""`studio render` stays under the memory limit or refuses up front, in one line (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.bench.memory import run_measured
from studio.engine.memory import MEMORY_LIMIT, MemoryLimitError, check_render_memory, render_bytes
from studio.export.options import MAX_PIXELS
from studio.export.views import EXPORT_VIEWS
from studio.resources import asset_path
from studio.scene import RunSpec, Scene, SurfaceSpec, load_scene

LARGEST = (4096, MAX_PIXELS // 4096)


def many_runs(runs: int, grid: int, steps: int) -> Scene:
    return Scene(
        surface=SurfaceSpec(preset="rosenbrock"),
        runs=tuple(RunSpec("sgd", {"lr": 1e-6}, (), grid=(grid, grid)) for _ in range(runs)),
        steps=steps,
    )


def test_everyday_scenes_are_accepted_at_the_largest_frame_in_every_view() -> None:
    for name in ("default.json", "digits01_optimizers_noise.json"):
        scene = load_scene(asset_path(f"scenes/{name}"))
        for view in EXPORT_VIEWS.values():
            check_render_memory(scene, view.panels, LARGEST)


def test_the_estimate_grows_with_balls_steps_frame_and_panels() -> None:
    small = many_runs(1, 8, 100)
    panels = EXPORT_VIEWS["composite"].panels
    base = render_bytes(small, panels, (640, 360))
    assert render_bytes(many_runs(1, 16, 100), panels, (640, 360)) > base
    assert render_bytes(many_runs(1, 8, 200), panels, (640, 360)) > base
    assert render_bytes(small, panels, LARGEST) > base
    assert render_bytes(small, ("loss",), (640, 360)) < base
    with pytest.raises(MemoryLimitError, match="more than the 1 GB limit"):
        check_render_memory(many_runs(64, 8, 2928), panels, LARGEST)


def run_studio(*args: str, cwd: Path) -> tuple[int, float, str]:
    """(exit status, peak RSS in bytes, stderr) of `studio ARGS` in a child process."""
    rc, peak_mib, _seconds, err = run_measured(list(args), cwd)
    return rc, peak_mib * 2**20, err


def test_an_oversized_render_is_refused_in_one_line_before_anything_starts(
    tmp_path: Path,
) -> None:
    flags = ["--optimizer=sgd:lr=0.00001,tol=0" for _ in range(64)]
    rc, peak, err = run_studio(
        "render",
        "--surface",
        "rosenbrock",
        *flags,
        "--start-grid",
        "8x8",
        "--steps",
        "2928",
        "--view",
        "composite",
        "--size",
        "4096x2304",
        "-o",
        "big.mp4",
        cwd=tmp_path,
    )
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1, err
    assert "4,096 balls of 64 runs" in lines[0] and "1 GB limit" in lines[0]
    assert 0 < peak < 300e6  # nothing was simulated or drawn
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_flat_view_at_the_largest_frame_stays_small(tmp_path: Path) -> None:
    """The loss view alone at 4096x2304 placed its legend from frames held as int64
    (over 800 MB for a two-step scene)."""
    rc, peak, err = run_studio(
        "render",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam",
        "--start",
        "-1,1",
        "--steps",
        "10",
        "--view",
        "loss",
        "--size",
        "4096x2304",
        "-o",
        "loss.png",
        cwd=tmp_path,
    )
    assert rc == 0, err
    assert 50e6 < peak < 0.5 * MEMORY_LIMIT  # measured (the child reported), and small
