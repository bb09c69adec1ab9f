"""`studio render` of a surface with a hole (log(x) + y^2, undefined for x <= 0): the
exported map is blank there, the exported 3D surface has a hole, and a start there is
refused in one line (docs/algorithms.md#undefined-regions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np

LIGHT_BACKGROUND = np.array([250, 250, 250])


def render(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", "render", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def background_rgb(img: np.ndarray) -> np.ndarray:
    return img[2, 2, :3].astype(int)  # the corner: the export's background


def test_contour_export_leaves_the_hole_blank(tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    proc = render(
        "--surface",
        "log(x) + y^2",
        "--optimizer",
        "adam:lr=0.1@2,1",
        "--steps",
        "10",
        "--view",
        "contour",
        "--light",
        "--no-legend",
        "--size",
        "480x480",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    img = iio.imread(out)[..., :3].astype(int)
    bg = background_rgb(img)
    off = np.abs(img - bg).max(axis=2) > 12
    # The map's middle rows: the left half of its plotted square is the hole (blank but for
    # thin hatching), the right half is coloured.
    rows = off[180:300]
    solid = rows.mean(axis=0) > 0.9  # solid colour: the defined half (and the axis line)
    edge = int(np.flatnonzero(np.convolve(solid, np.ones(40), "valid") == 40)[0])
    assert edge > 150  # the defined half starts mid-map: the hole is not coloured
    hole = rows[:, edge - 100 : edge - 10]
    assert 0.02 < hole.mean() < 0.4, hole.mean()


def test_3d_export_has_a_hole(tmp_path: Path) -> None:
    """Seen from above at one camera, the holed surface covers about half the pixels that
    |x| + y^2 (defined everywhere, the same domain) covers."""
    covered = []
    for formula in ("log(x) + y^2", "abs(x) + y^2"):
        out = tmp_path / "top.png"
        proc = render(
            "--surface",
            formula,
            "--optimizer",
            "adam:lr=0.1@2,1",
            "--steps",
            "10",
            "--view",
            "3d",
            "--camera",
            "0,90,40",
            "--no-legend",
            "--no-step",
            "--size",
            "320x240",
            "-o",
            str(out),
        )
        assert proc.returncode == 0, proc.stderr
        img = iio.imread(out)[..., :3].astype(int)
        covered.append(int((np.abs(img - background_rgb(img)).max(axis=2) > 12).sum()))
    assert covered[1] > 2000
    assert 0.4 < covered[0] / covered[1] < 0.6, covered


def test_render_refuses_a_start_in_the_hole(tmp_path: Path) -> None:
    out = tmp_path / "never.png"
    proc = render(
        "--surface", "log(x) + y^2", "--optimizer", "adam@-2,1", "--steps", "5", "-o", str(out)
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "studio: error: run 'Adam (lr 0.001)': start (-2, 1) is where f is undefined "
        "(log or square root of a negative number?)"
    ]
    assert not out.exists()


def test_render_says_how_many_grid_starts_the_hole_leaves_out(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    proc = render(
        "--surface", "log(x) + y^2", "--optimizer", "adam", "--start-grid", "4x4",
        "--steps", "5", "--size", "320x240", "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "studio: note: run 'Adam (lr 0.001)': 8 of 16 grid starts are where f or its gradient "
        "is undefined: left out"
    ]
    assert out.exists()
