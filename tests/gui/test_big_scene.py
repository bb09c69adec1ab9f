"""A start grid (hundreds of balls): the views draw it from the trajectory's own arrays.

Speed is measured with scripts and `studio bench`, never asserted here; these tests pin what
the cheap path must still show: balls where the trajectory puts them, at the height of
their recorded loss, with short trails that never leave the map.
"""

from __future__ import annotations

import numpy as np
import pytest

from studio.gui.session import Session
from studio.gui.views import ContourView, View3D
from studio.gui.views.trails import SHORT_TRAIL_STEPS
from studio.gui.views.view3d import LIFT
from studio.scene import RunSpec, Scene, SurfaceSpec


@pytest.fixture
def grid_session(qtbot):
    runs = (
        RunSpec(
            "adam", {"lr": 0.05}, ((0.0, 0.0),), grid=(12, 12), label="Adam grid", color="#e69f00"
        ),
        RunSpec("sgd", {"lr": 0.0005}, ((1.5, -0.5),), label="SGD", color="#56b4e9"),
        RunSpec("sgd", {"lr": 0.02}, ((0.0, 0.0),), grid=(9, 9), label="SGD grid", color="#009e73"),
    )
    session = Session(
        Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=200), threaded=False
    )
    yield session
    session.pause()


def test_grid_balls_and_trails_sit_on_their_recorded_loss(qtbot, grid_session) -> None:
    session = grid_session
    traj = session.trajectory
    view = View3D(session)
    qtbot.addWidget(view)
    hm = view._heightmap
    xmin, xmax, ymin, ymax = hm.domain
    grid_trail = next(t for t in view._trails if t.track.n == 144)
    index = view._trails.index(grid_trail)
    checked = 0
    for frame in (0, 12, 90, 200):
        session.set_frame(frame)
        x, y = traj.positions[frame, :, 0], traj.positions[frame, :, 1]
        inside = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
        assert inside.sum() > 140 and (frame == 0 or not inside[-81:].any())
        world = np.asarray(view.ball_item.pos)
        expected = hm.transform(traj.loss[frame]) * view._z_scale + LIFT
        assert np.allclose(world[inside, 2], expected[inside], atol=1e-4)
        assert np.allclose(
            world[inside, :2] / view._world_scale + view._centre,
            traj.positions[frame, inside],
            atol=1e-4,
        )
        solid, ghost = view._trail_items[index]
        assert not ghost.visible()  # a grid draws one plain line per tail
        if frame == 0:
            assert not solid.visible()
            continue
        segs = np.asarray(solid.pos).reshape(-1, 2, 3)
        cols = grid_trail.track.ball_index
        steps = min(frame, SHORT_TRAIL_STEPS)
        window = traj.positions[frame - steps : frame + 1, cols]
        stays = (
            (window[..., 0] >= xmin)
            & (window[..., 0] <= xmax)
            & (window[..., 1] >= ymin)
            & (window[..., 1] <= ymax)
        ).all(0)
        assert len(segs) >= steps * stays.sum()  # every tail that stays on the map is drawn
        # Each drawn vertex is a trajectory point lifted onto its recorded loss.
        for item, _ghost in view._trail_items:  # the diverged grid's tails too
            if item.visible():
                tail_xy = np.asarray(item.pos)[:, :2] / view._world_scale + view._centre
                assert (tail_xy[:, 0] >= xmin - 1e-4).all()
                assert (tail_xy[:, 0] <= xmax + 1e-4).all()
                assert (tail_xy[:, 1] >= ymin - 1e-4).all()
                assert (tail_xy[:, 1] <= ymax + 1e-4).all()
        if stays.all():  # then the layout is (steps, balls, 2)
            f = traj.loss[frame - steps : frame + 1, cols]
            z = (hm.transform(f) * view._z_scale + LIFT).astype(np.float32)
            z_drawn = segs[..., 2].reshape(steps, len(cols), 2)
            assert np.allclose(z_drawn[..., 0], z[:-1], atol=1e-4)
            assert np.allclose(z_drawn[..., 1], z[1:], atol=1e-4)
            checked += 1
    assert checked


def test_contour_shows_every_grid_ball_where_the_trajectory_has_it(qtbot, grid_session) -> None:
    session = grid_session
    view = ContourView(session)
    qtbot.addWidget(view)
    traj = session.trajectory
    xmin, xmax, ymin, ymax = session.surface.domain
    for frame in (0, 50, 200):
        session.set_frame(frame)
        shown = np.column_stack(view.balls.getData())
        assert shown.shape == (traj.n_balls, 2)
        pos = traj.positions[frame]
        inside = (
            (pos[:, 0] >= xmin) & (pos[:, 0] <= xmax) & (pos[:, 1] >= ymin) & (pos[:, 1] <= ymax)
        )
        assert np.array_equal(shown[inside], pos[inside])
        assert (shown[:, 0] >= xmin).all() and (shown[:, 0] <= xmax).all()
        assert (shown[:, 1] >= ymin).all() and (shown[:, 1] <= ymax).all()


def test_balls_stay_on_a_new_surface_until_its_run_arrives(qtbot) -> None:
    """The recorded loss belongs to the surface it was simulated on: while a new surface
    simulates, the old run's balls are lifted onto the new mesh, not its old heights."""
    import dataclasses

    runs = (
        RunSpec(
            "adam", {"lr": 0.05}, ((0.0, 0.0),), grid=(9, 9), label="Adam grid", color="#e69f00"
        ),
    )
    session = Session(Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=60))
    view = View3D(session)
    qtbot.addWidget(view)
    assert session.wait_for_simulation()
    session.set_frame(30)
    old = session.trajectory
    surface = dataclasses.replace(session.scene.surface, params={"a": 1.0, "b": 5.0})
    session.edit_scene(dataclasses.replace(session.scene, surface=surface), "Edit b")
    assert session.trajectory is old  # the new run is still simulating
    hm, xy = view._heightmap, old.positions[30]
    inside = np.abs(np.asarray(view.ball_item.pos)[:, :2]).max(1) < 4.9
    expected = hm.transform(session.surface.value(xy)) * view._z_scale + LIFT
    assert np.allclose(np.asarray(view.ball_item.pos)[inside, 2], expected[inside], atol=1e-4)
    assert session.wait_for_simulation()
    new = session.trajectory
    assert new is not old
    expected = hm.transform(new.loss[30]) * view._z_scale + LIFT
    inside = np.abs(np.asarray(view.ball_item.pos)[:, :2]).max(1) < 4.9
    assert np.allclose(np.asarray(view.ball_item.pos)[inside, 2], expected[inside], atol=1e-4)
    session.pause()
