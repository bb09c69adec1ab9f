"""Views ⇄ session: the napari way (change the model, check the widget, and back)."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt

from studio.gui.session import Session
from studio.gui.views import ContourView, LossView, View3D, View3DPanel
from studio.gui.views.heightmap import isoline_segments
from studio.gui.views.trails import fill_forward, status_at
from studio.scene import RunSpec, Scene, SurfaceSpec


def make_session(threaded: bool = False, **kw) -> Session:
    runs = (RunSpec("adam", {"lr": 0.05}, ((-1.5, 2.0),), label="Adam", color="#e69f00"),
            RunSpec("sgd", {"lr": 0.0005}, ((1.5, -0.5),), label="SGD", color="#56b4e9"))
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


def test_fill_forward_holds_last_finite_position() -> None:
    pos = np.array([[[0.0, 0.0]], [[1.0, 1.0]], [[np.inf, np.nan]], [[np.nan, 2.0]]])
    assert fill_forward(pos)[:, 0].tolist() == [[0, 0], [1, 1], [1, 1], [1, 1]]


def test_view3d_follows_frames_and_camera(qtbot, session: Session) -> None:
    view = View3D(session)
    qtbot.addWidget(view)
    session.set_frame(40)
    assert np.allclose(view.ball_item.pos, view._ball_world[40])
    view.set_camera(30.0, 45.0, 12.0)
    assert view.camera() == (30.0, 45.0, 12.0)
    view.reset_view()
    assert view.camera() != (30.0, 45.0, 12.0)
    view.set_trail_length(5)
    solid, _ghost = view._trail_items[0]
    assert len(solid.pos) == 2 * 5            # five segments, two vertices each
    view.set_trail_length(None)
    assert len(view._trail_items[0][0].pos) == 2 * 40
    view.set_wireframe(True)
    view.set_floor_contours(True)
    assert view.wireframe() and view.floor_contours()
    view.set_dark(False)


def test_view3d_panel_shows_legend_and_forwards_the_view_api(qtbot, session: Session) -> None:
    panel = View3DPanel(session)
    qtbot.addWidget(panel)
    panel.resize(640, 480)
    panel.show()
    qtbot.waitExposed(panel)
    assert "Adam" in panel.legend.text() and "SGD" in panel.legend.text()
    panel.set_camera(30.0, 45.0, 12.0)
    assert panel.view.camera() == (30.0, 45.0, 12.0)
    panel.set_wireframe(True)
    assert panel.view.wireframe()
    panel.set_dark(False)
    session.set_frame(40)
    assert np.allclose(panel.view.ball_item.pos, panel.view._ball_world[40])
    qtbot.waitUntil(lambda: not panel.grab_scene().isNull(), timeout=5000)
    rgb = grab_rgb_image(panel.grab_scene())
    assert rgb.shape[0] > 100 and rgb.std() > 10       # a picture, not a blank frame


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
    view = ContourView(session)
    qtbot.addWidget(view)
    view.resize(500, 500)
    view.show()
    qtbot.waitExposed(view)
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


def test_dragging_a_marker_is_one_undo_step(qtbot, session: Session) -> None:
    view = ContourView(session)
    qtbot.addWidget(view)
    _, _, marker = view._markers[0]
    for x in (-1.4, -1.3, -1.2):
        marker.setPos(QPointF(x, 1.5))        # TargetItem emits sigPositionChanged
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
    view = View3D(session)
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    session.set_frame(50)
    rgb = grab_rgb(view).reshape(-1, 3).astype(int)
    assert len(np.unique(rgb // 8, axis=0)) > 50, "the surface was not drawn"
    for colour in ("#e69f00", "#56b4e9"):
        target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
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
