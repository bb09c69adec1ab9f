"""What a user sees in depth: every run visible in a 3D render, balls at one spot apart,
balls outside the domain marked, and an automatic camera that sees the paths."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from test_views import grab_rgb

from studio.export.options import RenderOptions
from studio.gui.export.renderer import render_frames
from studio.gui.session import Session
from studio.gui.views import ContourView, View3D
from studio.gui.views.camera_fit import (
    CENTRE_Z,
    auto_camera,
    camera_position,
    eye_matrix,
    visible_fraction,
)
from studio.gui.views.heightmap import axis_names, build_heightmap, loss_ticks, nice_ticks
from studio.gui.views.trails import coincident_rings, outward
from studio.scene import RunSpec, Scene, SurfaceSpec

from qt_helpers import shown

COLOURS = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2")
VALLEY_RUNS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")


def valley_scene(leave_out: int | None = None) -> Scene:
    """The 20-step steep valley of issue 13: five optimizers from (-6, -6) at lr 0.4."""
    runs = tuple(
        RunSpec(name, {"lr": 0.4}, ((-6.0, -6.0),), color=colour)
        for k, (name, colour) in enumerate(zip(VALLEY_RUNS, COLOURS, strict=False))
        if k != leave_out
    )
    return Scene(
        surface=SurfaceSpec(
            preset=None, expression="0.1*x^2 + 2*y^2", domain=(-7.0, 7.0, -7.0, 7.0)
        ),
        runs=runs,
        steps=20,
    )


def last_frame(scene: Scene, **kw) -> np.ndarray:
    options = RenderOptions(size=(640, 360), view="3d", still=True, legend=False, **kw)
    return next(iter(render_frames(scene, options))).astype(int)


def test_every_run_of_the_steep_valley_is_visible_in_3d(qtbot) -> None:
    """Leaving any one run out of the render changes at least 100 pixels: no run is
    hidden behind the valley's front wall (the x-ray pass draws what the wall hides)."""
    full = last_frame(valley_scene())
    for k, name in enumerate(VALLEY_RUNS):
        without = last_frame(valley_scene(leave_out=k))
        changed = int((np.abs(full - without).max(axis=2) > 24).sum())
        assert changed >= 100, f"{name}: only {changed} pixels show it"


def well_scene(optimizers: tuple[str, ...] = ("adam", "sgd")) -> Scene:
    runs = tuple(
        RunSpec(name, {"lr": 0.1}, ((-2.0, 1.5),), color=colour)
        for name, colour in zip(optimizers, COLOURS, strict=False)
    )
    return Scene(
        surface=SurfaceSpec(
            preset=None, expression="-10*exp(-(x^2+y^2))", domain=(-3.0, 3.0, -3.0, 3.0)
        ),
        runs=runs,
        steps=100,
    )


def test_a_ball_in_a_deep_well_shows_as_a_ring_through_its_near_side(qtbot) -> None:
    session = Session(well_scene(("adam",)), threaded=False)
    view = shown(qtbot, View3D(session), (640, 400))
    view.set_camera(-90.0, 12.0)  # low, from the front: the well's lip hides it
    session.set_frame(session.last_frame)
    xray = view.xray_item
    assert len(xray.pos) == 2  # a ring and its hollow
    assert xray.size[1] < xray.size[0]
    rgb = grab_rgb(view).reshape(-1, 3).astype(int)
    orange = (np.abs(rgb - (0xE6, 0x9F, 0x00)).max(axis=1) <= 30).sum()
    assert orange >= 20, "the hidden ball left no trace"


def test_balls_at_one_spot_grow_rings() -> None:
    xy = np.array([[0.0, 0.0], [0.001, 0.0], [0.0, 0.0005], [5.0, 5.0]])
    assert coincident_rings(xy, 0.01).tolist() == [2, 1, 0, 0]
    assert coincident_rings(xy, 1e-6).tolist() == [0, 0, 0, 0]


def test_outward_points_where_the_ball_went_or_off_the_edge() -> None:
    domain = (-2.0, 2.0, -1.0, 3.0)
    pinned = np.array([[2.0, 1.0], [0.0, -1.0], [-2.0, 3.0]])
    raw = np.array([[5.0, 1.0], [np.nan, np.nan], [np.inf, 0.0]])
    d = outward(pinned, raw, domain)
    assert np.allclose(d[0], (1.0, 0.0))
    assert np.allclose(d[1], (0.0, -1.0))  # NaN: off the bottom edge
    assert np.allclose(d[2], np.array([-1.0, 1.0]) / np.sqrt(2))  # a corner
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0)


def diverging_scene() -> Scene:
    runs = (
        RunSpec("sgd", {"lr": 1.1}, ((1.5, 1.0),), color=COLOURS[0]),
        RunSpec("adam", {"lr": 0.1}, ((1.5, 1.0),), color=COLOURS[1]),
    )
    return Scene(
        surface=SurfaceSpec(preset=None, expression="x^2 + y^2", domain=(-2.0, 2.0, -2.0, 2.0)),
        runs=runs,
        steps=30,
    )


def test_a_ball_outside_the_domain_gets_an_arrow_and_its_state(qtbot) -> None:
    session = Session(diverging_scene(), threaded=False)
    view = shown(qtbot, ContourView(session), (480, 400))
    session.set_frame(session.last_frame)
    arrows = np.column_stack(view.arrows.getData())
    assert len(arrows) == 1
    assert np.allclose(arrows[0], np.column_stack(view.balls.getData())[0])
    labels = [label.textItem.toPlainText() for label in view._labels if label.isVisible()]
    assert labels == ["outside"] or labels == ["diverged"]
    session.set_frame(0)
    assert len(view.arrows.getData()[0]) == 0
    assert not any(label.isVisible() for label in view._labels)

    view3d = shown(qtbot, View3D(session), (480, 400))
    session.set_frame(session.last_frame)
    marks = view3d._annotations.marks
    assert marks is not None and len(marks) == 1 and marks[0][3] in ("outside", "diverged")
    assert np.allclose(np.linalg.norm(marks[0][1]), 1.0)


def test_map_colour_bar_and_axis_names_toggle(qtbot) -> None:
    session = Session(diverging_scene(), threaded=False)
    view = shown(qtbot, ContourView(session), (480, 400))
    assert view.colorbar_shown() and view.axes()
    assert view.getPlotItem().getAxis("bottom").labelText == "x"
    view.set_colorbar(False)
    assert not view.colorbar_shown()
    view.set_colorbar(True)
    assert view.colorbar_shown()
    view.set_axes(False)
    assert not view.getPlotItem().getAxis("bottom").label.isVisible()


def test_reading_aid_helpers() -> None:
    assert nice_ticks(-7, 7, 5).tolist() == [-5.0, 0.0, 5.0]
    assert nice_ticks(-2, 2, 5).tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert nice_ticks(0, 1, 5).tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])

    class DataFit:
        data = np.zeros((2, 2))

    assert axis_names(DataFit()) == ("w", "b")
    assert axis_names(object()) == ("x", "y")
    from studio.surface import surface_from_spec

    hm = build_heightmap(surface_from_spec(SurfaceSpec(preset="rosenbrock")))
    ticks = loss_ticks(hm)
    assert len(ticks) >= 2 and all(0 <= h <= hm.h_max for h, _ in ticks)


# ---------------------------------------------------------------- automatic camera


def test_eye_matrix_is_pyqtgraphs_view_rotation(qtbot) -> None:
    session = Session(diverging_scene(), threaded=False)
    view = View3D(session)
    qtbot.addWidget(view)
    view.opts["center"] = pg.Vector(0.0, 0.0, CENTRE_Z)  # before a framing moves it
    for az, el in ((-60.0, 32.0), (0.0, 4.0), (135.0, 70.0)):
        view.set_camera(az, el, 17.0)
        m = np.array(view.viewMatrix().data(), float).reshape(4, 4).T[:3, :3]
        assert np.allclose(m, eye_matrix(az, el), atol=1e-6)
        c = view.cameraPosition()
        assert np.allclose((c.x(), c.y(), c.z()), camera_position(az, el, 17.0), atol=1e-5)


def wall_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A high wall along y = 0 splitting the domain: a point behind it (y > 0) is hidden
    from a camera on the y < 0 side at a low elevation."""
    xs = ys = np.linspace(-5, 5, 101)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    return xs, ys, np.where(np.abs(gy) < 0.5, 10.0, 0.0) + 0 * gx


def test_visibility_sees_over_a_wall_only_from_its_side() -> None:
    _xs, _ys, h = wall_grid()
    world = np.array([[0.0, 3.0, 0.06]])  # behind the wall (y > 0)
    heights = h * 4.0 / h.max()
    front = camera_position(-90.0, 14.0, 17.0)  # from y < 0, low
    back = camera_position(90.0, 14.0, 17.0)  # from y > 0
    assert visible_fraction(world, np.ones(1), heights, front) == 0.0
    assert visible_fraction(world, np.ones(1), heights, back) == 1.0


def test_auto_camera_looks_from_where_the_paths_are_seen() -> None:
    grid = wall_grid()
    path = np.column_stack([np.linspace(-3, 3, 30), np.full(30, 3.0)])  # behind the wall
    az, el, dist = auto_camera(grid, [path], 16 / 9, elevations=[14.0])
    cam = camera_position(az, el, 17.0)
    assert cam[1] > -1e-6, f"camera at azimuth {az} looks from the wall's near side"
    assert dist > 5
    # Nothing in the way: the isometric preset is kept.
    flat = (grid[0], grid[1], np.zeros_like(grid[2]))
    assert auto_camera(flat, [path], 16 / 9)[:2] == (-60.0, 32.0)


def test_auto_preset_frames_the_view(qtbot) -> None:
    session = Session(valley_scene(), threaded=False)
    view = shown(qtbot, View3D(session), (640, 360))
    view.camera_preset("auto")
    assert view.is_framed()
    az, el, _ = view.camera()
    assert (az, el) == view.preset_angles("auto")
