"""Views ⇄ session: the napari way (change the model, check the widget, and back)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt

from studio.gui.session import Session
from studio.gui.views import ContourView, LossView, View3D, View3DPanel
from studio.gui.views.heightmap import isoline_segments
from studio.gui.views.trails import status_at
from studio.scene import RunSpec, Scene, SurfaceSpec

from qt_helpers import drag, shown


def make_session(threaded: bool = False, **kw) -> Session:
    runs = (
        RunSpec("adam", {"lr": 0.05}, ((-1.5, 2.0),), label="Adam", color="#e69f00"),
        RunSpec("sgd", {"lr": 0.0005}, ((1.5, -0.5),), label="SGD", color="#56b4e9"),
    )
    return Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=80, **kw), threaded


@pytest.fixture
def session(qtbot):
    scene, threaded = make_session()
    s = Session(scene, threaded=threaded)
    yield s
    s.pause()


def test_isolines_of_a_bowl_are_circles() -> None:
    xs = ys = np.linspace(-1, 1, 101)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    segs = isoline_segments(xs, ys, gx**2 + gy**2, np.array([0.25]))
    radii = np.linalg.norm(segs.reshape(-1, 2), axis=1)
    assert len(segs) > 50 and np.allclose(radii, 0.5, atol=0.01)


def test_view3d_follows_frames_and_camera(qtbot, session: Session) -> None:
    view = View3D(session)
    qtbot.addWidget(view)
    session.set_frame(40)
    assert np.allclose(view.ball_item.pos, view.ball_world(40))
    view.set_camera(30.0, 45.0, 12.0)
    assert view.camera() == (30.0, 45.0, 12.0)
    view.reset_view()
    assert view.camera() != (30.0, 45.0, 12.0)
    view.set_trail_length(5)
    solid, _ghost = view._trail_items[0]
    assert len(solid.pos) == 2 * 5  # five segments, two vertices each
    view.set_trail_length(None)
    assert len(view._trail_items[0][0].pos) == 2 * 40
    view.set_wireframe(True)
    view.set_floor_contours(True)
    assert view.wireframe() and view.floor_contours()
    view.set_dark(False)


def test_view3d_panel_shows_legend_and_forwards_the_view_api(qtbot, session: Session) -> None:
    panel = shown(qtbot, View3DPanel(session), (640, 480))
    assert "Adam" in panel.legend.text() and "SGD" in panel.legend.text()
    panel.set_camera(30.0, 45.0, 12.0)
    assert panel.view.camera() == (30.0, 45.0, 12.0)
    panel.set_wireframe(True)
    assert panel.view.wireframe()
    panel.set_dark(False)
    session.set_frame(40)
    assert np.allclose(panel.view.ball_item.pos, panel.view.ball_world(40))
    qtbot.waitUntil(lambda: not panel.grab_scene().isNull(), timeout=5000)
    rgb = grab_rgb_image(panel.grab_scene())
    assert rgb.shape[0] > 100 and rgb.std() > 10  # a picture, not a blank frame


def test_contour_balls_track_the_frame(qtbot, session: Session) -> None:
    view = ContourView(session)
    qtbot.addWidget(view)
    session.set_frame(30)
    shown = np.column_stack(view.balls.getData())
    assert np.allclose(shown, session.trajectory.positions[30], atol=1e-9)
    assert len(view._markers) == 2


def test_click_on_map_moves_selected_start(qtbot) -> None:
    scene, _ = make_session()
    session = Session(scene)  # threaded, like the app
    view = shown(qtbot, ContourView(session), (500, 500))
    assert session.wait_for_simulation()
    session.select_run(1)
    vb = view.getPlotItem().getViewBox()
    target = view.mapFromScene(vb.mapViewToScene(QPointF(0.5, 2.0)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert session.wait_for_simulation()
    x, y = session.scene.runs[1].starts[0]
    assert abs(x - 0.5) < 0.05 and abs(y - 2.0) < 0.05
    assert np.allclose(session.trajectory.positions[0, 1], (x, y))
    session.undo_stack.undo()
    assert session.scene.runs[1].starts[0] == (1.5, -0.5)
    assert session.wait_for_simulation()  # nothing in flight when the view goes


def test_dragging_a_marker_is_one_undo_step(qtbot, session: Session) -> None:
    view = ContourView(session)
    qtbot.addWidget(view)
    _, _, marker = view._markers[0]
    for x in (-1.4, -1.3, -1.2):
        marker.setPos(QPointF(x, 1.5))  # TargetItem emits sigPositionChanged
    marker.sigPositionChangeFinished.emit(marker)
    assert session.scene.runs[0].starts[0] == pytest.approx((-1.2, 1.5))
    assert session.undo_stack.count() == 1
    session.undo_stack.undo()
    assert session.scene.runs[0].starts[0] == (-1.5, 2.0)


def test_loss_cursor_scrubs_and_follows(qtbot, session: Session) -> None:
    view = LossView(session)
    qtbot.addWidget(view)
    session.set_frame(25)
    assert view.loss_plot.cursor.value() == 25
    view.loss_plot.cursor.setValue(60)
    assert session.frame == 60
    view.set_log(False)
    view.set_second("Learning rate")
    assert len(view.loss_plot.curves) == 2


def test_status_at_marks_stop_step() -> None:
    class T:
        status = np.array([0, 1, 2], np.int8)
        stop_step = np.array([80, 10, 5])

    assert status_at(T, 7).tolist() == [0, 0, 2]
    assert status_at(T, 10).tolist() == [0, 1, 2]


def grab_rgb(view: View3D) -> np.ndarray:
    return grab_rgb_image(view.grabFramebuffer())


def grab_rgb_image(image) -> np.ndarray:
    from PyQt6.QtGui import QImage

    img = image.convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def test_gl_frame_shows_surface_and_balls_in_run_colours(qtbot, session: Session) -> None:
    view = shown(qtbot, View3D(session), (640, 480))
    session.set_frame(50)
    rgb = grab_rgb(view).reshape(-1, 3).astype(int)
    assert len(np.unique(rgb // 8, axis=0)) > 50, "the surface was not drawn"
    for colour in ("#e69f00", "#56b4e9"):
        target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        near = (np.abs(rgb - target).max(axis=1) <= 24).sum()
        assert near >= 20, f"no ball or trail in {colour}"


def test_view3d_window_is_one_qt_window(qtbot, session: Session) -> None:
    """One Python object, one C++ window: an orphaned second one crashed PyQt at exit."""
    from PyQt6.QtGui import QGuiApplication

    from studio.gui.views.view3d import View3DWindow

    before = len(QGuiApplication.allWindows())
    window = View3DWindow(session)
    assert len(QGuiApplication.allWindows()) == before + 1
    window.destroy()


def test_window_keeps_its_surface_as_a_picture_and_shows_the_same(qtbot, session: Session) -> None:
    """The main window's 3D view starts each frame from a kept copy of the surface while
    the camera stands still (playback, edits of a run): what it shows is what drawing
    everything shows, and a new frame still moves the balls."""
    panel = shown(qtbot, View3DPanel(session), (640, 480))
    window = panel.view
    qtbot.waitUntil(window.isExposed, timeout=3000)
    session.set_frame(40)

    def painted() -> np.ndarray:
        with qtbot.waitSignal(window.frameSwapped, timeout=3000):
            window.update()
        return grab_rgb_image(window.grabFramebuffer())  # what that paint left

    def shown_with(layer: bool) -> np.ndarray:
        window.static_layer = layer
        window._layer.release()
        painted()  # the first paint at a camera draws everything
        return painted()

    kept = shown_with(True)
    assert window._layer.key is not None  # the second paint copied the kept surface
    drawn = shown_with(False)
    assert window._layer.key is None
    # The window's own framebuffer may round a few of the wireframe's edge pixels apart
    # from the layer's (8 of 288,000 here); anything more would be a picture gone wrong.
    assert int((kept != drawn).any(-1).sum()) < 0.0005 * kept.shape[0] * kept.shape[1]
    window.static_layer = True
    painted()
    session.set_frame(80)
    moved = painted()
    assert window._layer.key is not None
    assert int((moved != kept).any(-1).sum()) > 20


# ---------------------------------------------------------------- big and diverging scenes


def diverging_scene(grid: tuple[int, int] | None = None, lr: float = 1.0, steps: int = 60) -> Scene:
    """SGD on Rosenbrock with a rate that throws the ball(s) off the map in a step or two."""
    runs = (
        RunSpec("sgd", {"lr": lr}, ((-1.5, 2.0),), grid=grid, label="SGD", color="#e69f00"),
        RunSpec("adam", {"lr": 0.05}, ((-1.5, 2.0),), label="Adam", color="#56b4e9"),
    )
    return Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=steps)


def shown_map(qtbot, session: Session) -> ContourView:
    view = shown(qtbot, ContourView(session), (360, 360))
    view.reset_view()
    return view


def test_a_diverged_ball_and_its_cross_show_whole_inside_the_map(qtbot) -> None:
    session = Session(diverging_scene(), threaded=False)
    view = shown_map(qtbot, session)
    session.set_frame(session.last_frame)
    assert session.trajectory.status[0] == 2  # SGD diverged
    vb = view.getPlotItem().getViewBox()
    visible = vb.sceneBoundingRect()
    ball = np.column_stack(view.balls.getData())[0]
    cross = np.column_stack(view.crosses.getData())
    assert len(cross) == 1 and np.allclose(cross[0], ball)
    at = vb.mapViewToScene(QPointF(*ball))
    half_cross = 15 / 2
    assert visible.adjusted(half_cross, half_cross, -half_cross, -half_cross).contains(at)
    assert view.crosses.zValue() > view.balls.zValue()  # the × over the ball


def test_diverged_balls_draw_no_trail_outside_the_domain(qtbot) -> None:
    session = Session(diverging_scene(grid=(5, 5), lr=0.63), threaded=False)
    assert (session.trajectory.status[:25] == 2).all()
    view = shown_map(qtbot, session)
    view3d = View3D(session)
    qtbot.addWidget(view3d)
    xmin, xmax, ymin, ymax = session.surface.domain
    span = max(xmax - xmin, ymax - ymin)
    for frame in (1, 2, 5, session.last_frame):
        session.set_frame(frame)
        x, y = view._trail_items[0].getData()
        if x is not None and len(x):
            segs = np.column_stack([x, y]).reshape(-1, 2, 2)
            assert (segs[..., 0] >= xmin - 0.011 * (xmax - xmin)).all()
            assert (segs[..., 0] <= xmax + 0.011 * (xmax - xmin)).all()
            assert (segs[..., 1] >= ymin - 0.011 * (ymax - ymin)).all()
            assert (segs[..., 1] <= ymax + 0.011 * (ymax - ymin)).all()
            assert (np.linalg.norm(segs[:, 1] - segs[:, 0], axis=1) < 0.5 * span).all()
        solid, _ghost = view3d._trail_items[0]
        if solid.visible():
            world = solid.pos.reshape(-1, 2, 3)
            assert np.isfinite(world).all()
            half = 0.5 * view3d._world_scale * np.array([xmax - xmin, ymax - ymin]) * 1.021
            assert (np.abs(world[..., :2]) <= half).all()
            assert (
                np.linalg.norm(world[:, 1, :2] - world[:, 0, :2], axis=1)
                < 0.5 * span * view3d._world_scale
            ).all()


def bouncing_scene(steps: int = 4000) -> Scene:
    """SGD at lr 1 on x² + y² sends (x, y) to (-x, -y) at every step: a run that bounces
    across the whole map along one segment, thousands of times, beside one that settles."""
    runs = (
        RunSpec("sgd", {"lr": 1.0}, ((1.5, 1.0),), label="bounce", color="#e69f00"),
        RunSpec("sgd", {"lr": 0.01}, ((-1.5, 1.0),), label="settle", color="#56b4e9"),
    )
    return Scene(surface=SurfaceSpec(expression="x^2 + y^2"), runs=runs, steps=steps)


@pytest.mark.parametrize("trail", [None, 1000])
def test_a_run_bouncing_between_two_walls_draws_its_segment_once(qtbot, trail) -> None:
    """Every repeat of a full-width segment cost its length in pixels again: 4,000 of them
    held the window over a second per paint in software GL (the long monkey's freeze)."""
    session = Session(bouncing_scene(), threaded=False)
    view = shown_map(qtbot, session)
    view3d = View3D(session)
    qtbot.addWidget(view3d)
    view.set_trail_length(trail)
    view3d.set_trail_length(trail)
    for frame in (600, 1500, session.last_frame):
        session.set_frame(frame)
        x, y = view._trail_items[0].getData()
        solid, ghost = view3d._trail_items[0]
        assert len(x) == len(solid.pos) == len(ghost.pos) == 2  # one segment, either way round
        ends = np.column_stack([x, y])
        assert np.allclose(np.abs(ends), [1.5, 1.0])
        # The settling run keeps its early steps, which are all different (a trail of 1,000
        # steps has left them behind: the ball at rest is one point by then).
        settle, _ = view3d._trail_items[1]
        assert len(settle.pos) >= (200 if trail is None else 2)


def test_first_drawn_keeps_a_path_that_never_repeats_and_the_first_of_each_repeat() -> None:
    from studio.gui.views.trails import DISTINCT_FROM, first_drawn

    t = np.linspace(0, 6, 2 * DISTINCT_FROM)
    spiral = np.column_stack([np.cos(t) * t, np.sin(t) * t])
    segs = np.stack([spiral[:-1], spiral[1:]], axis=1)
    assert first_drawn(segs) is None  # nothing dropped
    a, b = np.array([1.0, 2.0, 0.5]), np.array([-1.0, -2.0, 0.5])
    bounce = np.array([[a, b], [b, a]] * DISTINCT_FROM)
    keep = first_drawn(np.concatenate([bounce, np.stack([a[None] * 0.5, b[None] * 0.5], 1)]))
    assert keep is not None
    assert np.flatnonzero(keep).tolist() == [0, 2 * DISTINCT_FROM]  # the first, and the new one
    assert first_drawn(bounce[:10]) is None  # short trails are drawn as they are


def test_3d_ball_heights_are_the_trajectory_loss_on_the_height_map(qtbot) -> None:
    session = Session(diverging_scene(grid=(6, 6), lr=0.002, steps=120), threaded=False)
    view = View3D(session)
    qtbot.addWidget(view)
    traj, hm = session.trajectory, view._heightmap
    xmin, xmax, ymin, ymax = hm.domain
    pinned = 0
    for frame in (0, 7, 60, 120):
        session.set_frame(frame)
        z = np.asarray(view.ball_item.pos)[:, 2]
        expected = hm.transform(traj.loss[frame]) * view._z_scale + 0.06
        x, y = traj.positions[frame, :, 0], traj.positions[frame, :, 1]
        inside = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
        assert inside.sum() >= 20
        assert np.allclose(z[inside], expected[inside], atol=1e-4)
        # A ball off the map sits on the mesh's edge, at the surface's height there.
        xy = np.asarray(view.ball_item.pos)[:, :2] / view._world_scale + view._centre
        assert (xy[:, 0] >= xmin - 1e-4).all() and (xy[:, 0] <= xmax + 1e-4).all()
        if (~inside).any():
            pinned += 1
            on_edge = hm.transform(session.surface.value(xy[~inside])) * view._z_scale + 0.06
            assert np.allclose(z[~inside], on_edge, atol=1e-3)
    assert pinned  # the scene does throw some balls off the map


def test_the_selected_runs_start_marker_is_on_top_and_takes_the_drag(qtbot) -> None:
    runs = tuple(
        RunSpec(name, {"lr": 0.001}, ((-1.5, 2.0),), label=name, color=colour)
        for name, colour in (("sgd", "#e69f00"), ("momentum", "#56b4e9"), ("nadam", "#d55e00"))
    )
    session = Session(
        Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=20), threaded=False
    )
    view = shown_map(qtbot, session)
    for selected in (0, 1):
        session.select_run(selected)
        at = view.getPlotItem().getViewBox().mapViewToScene(QPointF(-1.5, 2.0))
        top = next(item for item in view.scene().items(at) if isinstance(item, pg.TargetItem))
        assert [i for i, _j, m in view._markers if m is top] == [selected]
    press = view.mapFromScene(at)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=press)
    for dx in (5, 15, 30):
        qtbot.mouseMove(view.viewport(), press + QPoint(dx, dx))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=press + QPoint(30, 30))
    starts = [run.starts[0] for run in session.scene.runs]
    assert starts[1] != (-1.5, 2.0)  # the selected run moved...
    assert starts[0] == starts[2] == (-1.5, 2.0)  # ...and only it


def test_legend_strip_takes_the_light_theme_set_before_it_is_shown(qtbot, session) -> None:
    from studio.gui.theme import LIGHT

    panel = View3DPanel(session)
    qtbot.addWidget(panel)
    panel.set_dark(False)  # as a restored light theme does at start-up
    panel.resize(640, 480)
    panel.show()
    qtbot.waitExposed(panel)
    rgb = grab_rgb_image(panel._header.grab().toImage())
    corner = rgb[2, 2]
    assert np.abs(corner.astype(int) - [0xFB, 0xFB, 0xFC]).max() <= 2, corner
    assert LIGHT.background == "#fbfbfc"
    panel.set_dark(True)
    rgb = grab_rgb_image(panel._header.grab().toImage())
    assert np.abs(rgb[2, 2].astype(int) - [0x16, 0x18, 0x1D]).max() <= 2


def test_a_ball_off_the_map_is_pinned_where_its_path_left_it() -> None:
    from studio.gui.views.trails import Tracks, compact_segments

    domain = (-1.0, 1.0, -1.0, 1.0)
    path = np.array(
        [[0.0, 0.0], [0.5, 0.0], [3.0, 0.5], [np.inf, np.nan], [0.2, 0.2], [-5.0, 0.2]]
    )[:, None]  # leaves, blows up, returns, leaves

    class T:
        positions = np.concatenate([path, np.zeros_like(path)], axis=1)  # ball 1 stays put
        loss = np.zeros(positions.shape[:2])
        ball_run = np.array([0, 1])

    tracks = Tracks(T, domain, 2, value=lambda xy: np.full(len(xy), 7.0))
    assert tracks.fix.tolist() == [0]  # only the runaway is worked on
    shown = np.array([tracks.frame(t)[0][0] for t in range(6)])
    assert np.allclose(shown, [[0, 0], [0.5, 0], [1.0, 0.1], [1.0, 0.1], [0.2, 0.2], [-1.0, 0.2]])
    _xy, pinned, f = tracks.frame(2, loss=True)
    assert pinned.tolist() == [True, False]
    assert f.tolist() == [7.0, 0.0]  # f re-evaluated where pinned
    window, f, ok = tracks.window(tracks.runs[0], 0, 6, loss=True)
    assert np.allclose(window[:, 0], shown) and f[:, 0].tolist() == [0, 0, 7, 7, 0, 7]
    segs, offsets = compact_segments(window, ok)
    # Only the step 0→1 stays in the domain (3→4 starts at inf, the others end far out):
    assert np.allclose(segs, [[[0, 0], [0.5, 0]]]) and offsets.tolist() == [0, 1, 1, 1, 1, 1]


def _surface_extent(view: View3D) -> tuple[float, float]:
    """The mesh's projected width and height as fractions of the view's."""
    from studio.gui.views.camera_fit import eye_points, project

    az, el, dist = view.camera()
    (eye,) = eye_points(view, az, el, 0.0)
    x, y = project(eye, dist, (view.width(), view.height()), float(view.opts["fov"]))
    return (x.max() - x.min()) / view.width(), (y.max() - y.min()) / view.height()


@pytest.mark.parametrize("size", [(900, 500), (500, 800)], ids=["wide", "tall"])
def test_reset_view_frames_the_surface_to_fill_the_view(
    qtbot, session: Session, size: tuple[int, int]
) -> None:
    view = View3D(session)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.reset_view()
    w, h = _surface_extent(view)
    assert max(w, h) > 0.85 and w <= 1.0 and h <= 1.0  # fills one way, cut off in none


def test_user_zoom_is_kept_across_resizes(qtbot, session: Session) -> None:
    view = shown(qtbot, View3D(session), (700, 500))
    drag(view)  # the user turns the camera
    view.set_camera(10.0, 20.0, 30.0)
    view.resize(800, 600)
    qtbot.wait(50)
    assert view.camera() == (10.0, 20.0, 30.0)
    view.resize(900, 250)
    view.reset_view()  # a preset frames again, and follows resizes again
    fitted = view.camera()[2]
    view.resize(400, 700)  # the width binds now, not the height: the camera comes closer
    qtbot.wait(50)
    assert view.camera()[2] < fitted


@pytest.mark.parametrize(
    ("domain", "size"), [((-16, 16, -2, 2), (270, 320)), ((-1, 1, -9, 9), (600, 200))]
)
def test_the_map_shows_the_whole_of_a_long_domain_in_any_panel(qtbot, domain, size) -> None:
    """Equal scales on both axes and a domain far wider than the panel (a network's PCA
    plane spans 98% along PC1): the map showed a slice from the middle, without the start."""
    runs = (RunSpec("adam", {"lr": 0.05}, ((domain[0] * 0.9, 0.0),), label="Adam"),)
    scene = Scene(
        surface=SurfaceSpec(expression="0.01*x^2 + y^2", domain=domain), runs=runs, steps=20
    )
    session = Session(scene, threaded=False)
    view = shown(qtbot, ContourView(session), size)
    view.reset_view()
    qtbot.wait(20)
    (x0, x1), (y0, y1) = view.getPlotItem().getViewBox().viewRange()
    assert x0 <= domain[0] and x1 >= domain[1] and y0 <= domain[2] and y1 >= domain[3]
