"""Where f is undefined (log(x) + y² for x ≤ 0) the views show a hole, the Surface panel
says so, and the window refuses a start there (docs/algorithms.md#undefined-regions)."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPointF
from PyQt6.QtGui import QColor
from test_views import grab_rgb_image

from studio.gui.panels.optimizer_panel import OptimizerPanel
from studio.gui.panels.surface_editor import SurfaceEditor
from studio.gui.session import Session
from studio.gui.theme import theme_for
from studio.gui.views import ContourView, View3D
from studio.gui.views.heightmap import build_heightmap, isoline_segments
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec
from studio.surface import make_surface

from qt_helpers import shown

LOG = "log(x) + y^2"


def hole_scene(expression: str = LOG, grid: tuple[int, int] | None = None) -> Scene:
    run = (
        RunSpec("adam", {"lr": 0.1}, grid=grid, label="Adam", color=PALETTE[0])
        if grid
        else RunSpec("adam", {"lr": 0.1}, ((2.0, 1.0),), label="Adam", color=PALETTE[0])
    )
    return Scene(surface=SurfaceSpec(preset=None, expression=expression), runs=(run,), steps=30)


@pytest.fixture
def session(qtbot) -> Session:
    s = Session(hole_scene(), threaded=False)
    yield s
    s.pause()


# ------------------------------------------------------------------------- the height map


def test_undefined_cells_are_holes_not_a_plateau() -> None:
    hm = build_heightmap(make_surface(LOG))
    left = hm.xs < 0
    assert not hm.mask[left].any() and hm.mask[~left].all()
    assert hm.undefined_fraction == pytest.approx(0.5)
    # The colour scale comes from the defined half: its top is its own high rim (y² near
    # 25), and only a sliver of the defined cells sits at the clip.
    defined_h = hm.h[hm.mask]
    assert (defined_h >= 0.999 * hm.h_max).mean() < 0.05
    assert hm.f_clip < 30 and hm.f_min < -2
    # −inf (log 0) is the floor, +inf (overflow) the clip, as heights of a ball.
    assert hm.transform(np.array([-np.inf, np.inf])).tolist() == [0.0, hm.h_max]


def test_isolines_skip_the_hole() -> None:
    hm = build_heightmap(make_surface("log(x^2 + y^2 - 4)"))
    segs = isoline_segments(hm.xs, hm.ys, hm.h, hm.levels(), hm.defined)
    radius = np.linalg.norm(segs.reshape(-1, 2), axis=1)
    assert len(segs) > 100 and radius.min() > 2.0  # none inside the circle of radius 2
    unmasked = isoline_segments(hm.xs, hm.ys, hm.h, hm.levels())
    assert np.linalg.norm(unmasked.reshape(-1, 2), axis=1).min() < 2.0


# ------------------------------------------------------------------------- 3D and map


def test_mesh_has_no_triangles_over_the_hole(qtbot, session: Session) -> None:
    view = shown(qtbot, View3D(session), (480, 360))
    item = view.surface_item
    full = 2 * (len(view._heightmap.xs) - 1) * (len(view._heightmap.ys) - 1)
    verts = item._meshdata.vertexes()
    faces = item._meshdata.faces()
    assert 0.45 * full < len(faces) < 0.5 * full
    # World x of every face's corners: none left of the domain's centre (x = 0).
    assert verts[faces][..., 0].min() > -0.1
    # A whole surface again: a full mesh.
    session.edit_scene(hole_scene("x^2 + y^2"))
    view._maybe_rebuild()
    assert view.surface_item.face_count() == full


def test_mesh_hole_is_see_through(qtbot, session: Session) -> None:
    """Seen from straight above, the surface with its hole covers half the pixels the same
    surface covers once it is defined everywhere."""
    view = shown(qtbot, View3D(session), (480, 360))
    view.set_axes(False)
    background = np.array(QColor(theme_for(True).background).getRgb()[:3])

    def covered() -> int:
        view.set_camera(0.0, 90.0, 40.0)  # straight down, the whole domain in sight
        qtbot.wait(50)
        rgb = grab_rgb_image(view.grabFramebuffer()).astype(int)
        return int((np.abs(rgb - background).max(axis=2) > 12).sum())

    holed = covered()
    session.edit_scene(hole_scene("abs(x) + y^2"))
    view._maybe_rebuild()
    whole = covered()
    assert whole > 2000
    assert 0.4 < holed / whole < 0.6


def _map_points(view: ContourView, points: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """(column, row) in the grabbed image of data points on the map."""
    vb = view.getPlotItem().getViewBox()
    dpr = view.devicePixelRatioF()
    out = []
    for x, y in points:
        at = view.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
        out.append((round(at.x() * dpr), round(at.y() * dpr)))
    return out


def _map_pixels(view: ContourView, points: list[tuple[float, float]]) -> np.ndarray:
    image = grab_rgb_image(view.grab().toImage()).astype(int)
    return np.array([image[r, c] for c, r in _map_points(view, points)])


@pytest.mark.parametrize("dark", [True, False])
def test_map_shows_background_and_hatching_in_the_hole(qtbot, session: Session, dark: bool) -> None:
    view = shown(qtbot, ContourView(session), (520, 420))
    view.set_dark(dark)
    qtbot.wait(50)
    background = np.array(QColor(theme_for(dark).background).getRgb()[:3])
    # Every pixel of a box inside the hole: mostly background, crossed by hatch lines.
    corners = _map_points(view, [(-4.6, 4.0), (-0.6, -4.0)])
    image = grab_rgb_image(view.grab().toImage()).astype(int)
    (c0, r0), (c1, r1) = corners
    box = image[r0:r1, c0:c1].reshape(-1, 3)
    assert len(box) > 5000
    off = np.abs(box - background).max(axis=1) > 10
    assert off.mean() > 0.03, "the hole is not hatched"
    assert off.mean() < 0.4, "the hole is not blank"
    inside = _map_pixels(view, [(x, 0.5) for x in np.linspace(0.5, 4.5, 9)])
    assert (np.abs(inside - background).max(axis=1) > 30).all(), "the defined half is blank"
    assert len(view.hatch.getData()[0]) > 0


# ------------------------------------------------------------------------- Surface panel


def test_note_shows_while_the_surface_has_holes(qtbot) -> None:
    session = Session(hole_scene("x^2 + y^2"), threaded=False)
    editor = shown(qtbot, SurfaceEditor(session), (380, 600))
    assert editor.undefined_text == ""
    session.edit_scene(hole_scene(LOG))
    assert "f is undefined on part of the domain" in editor.undefined_text
    assert "about 50%" in editor.undefined_text
    session.edit_scene(hole_scene("log(x^2 + y^2 - 4)"))
    assert "about 13%" in editor.undefined_text
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert editor.undefined_text == "" and not editor.undefined_note.isVisible()


# ------------------------------------------------------------------------- starts


def test_run_form_refuses_a_start_in_the_hole(qtbot, session: Session) -> None:
    panel = shown(qtbot, OptimizerPanel(session), (420, 900))
    form = panel.run_form
    depth = session.undo_stack.count()
    panel.start_x.setValue(-2.0)
    assert session.scene.runs[0].starts == ((2.0, 1.0),)  # the model is unchanged
    assert session.undo_stack.count() == depth
    assert form.start_error.isVisibleTo(form)
    assert form.start_error_text == (
        "start (-2, 1) is where f is undefined (log or square root of a negative number?): "
        "not applied"
    )
    assert panel.start_x.value() == -2.0  # what was typed stays, to be corrected
    panel.start_x.setValue(3.0)
    assert session.scene.runs[0].starts == ((3.0, 1.0),)
    assert form.start_error_text == ""


def test_run_form_says_how_many_grid_starts_the_hole_leaves_out(qtbot) -> None:
    session = Session(hole_scene(grid=(4, 4)), threaded=False)
    panel = shown(qtbot, OptimizerPanel(session), (420, 900))
    note = panel.run_form.starts_note
    assert note.isVisibleTo(panel)
    assert note.text() == "8 of 16 grid starts are where f or its gradient is undefined: left out"
    assert session.trajectory is not None and session.trajectory.n_balls == 8


def test_map_click_in_the_hole_is_refused_with_the_reason(qtbot, session: Session) -> None:
    view = shown(qtbot, ContourView(session), (520, 420))
    with qtbot.waitSignal(session.errorRaised) as blocker:
        view._move_start(0, 0, -3.0, 0.5)
    assert "start (-3, 0.5) is where f is undefined" in blocker.args[0]
    assert session.scene.runs[0].starts == ((2.0, 1.0),)
    view._move_start(0, 0, 3.0, 0.5)
    assert session.scene.runs[0].starts == ((3.0, 0.5),)


def test_opening_a_scene_with_a_start_in_the_hole_says_why(qtbot, session: Session) -> None:
    bad = Scene(
        surface=SurfaceSpec(preset=None, expression="sqrt(x*y)"),
        runs=(RunSpec("sgd", {}, ((1.0, -1.0),), label="SGD", color=PALETTE[1]),),
        steps=10,
    )
    with qtbot.waitSignal(session.errorRaised) as blocker:
        session.replace_scene(bad)
    assert blocker.args[0] == (
        "run 'SGD': start (1, -1) is where f is undefined (log or square root of a negative "
        "number?)"
    )


def test_views_survive_f_undefined_everywhere_and_overflow_nan(qtbot) -> None:
    """log(-x^2 - 1) has no value anywhere; exp(x^2) - exp(y^2) on [-40, 40]^2 is inf - inf
    (NaN) where both overflow: the views, the note and the engine take both in their stride."""
    session = Session(hole_scene("x^2 + y^2"), threaded=False)
    view = shown(qtbot, View3D(session), (320, 240))
    contour = shown(qtbot, ContourView(session), (320, 240))
    editor = shown(qtbot, SurfaceEditor(session), (380, 600))
    with qtbot.waitSignal(session.errorRaised) as blocker:  # the start has no value either
        session.edit_scene(hole_scene("log(-x^2 - 1)"))
    assert "is where f is undefined" in blocker.args[0]
    view._maybe_rebuild()
    contour._maybe_rebuild()
    assert view.surface_item.face_count() == 0
    assert editor.undefined_text.startswith("⚠ f is undefined on the whole domain")
    qtbot.wait(20)

    overflow = Scene(
        surface=SurfaceSpec(
            preset=None, expression="exp(x^2) - exp(y^2)", domain=(-40, 40, -40, 40)
        ),
        runs=(RunSpec("sgd", {"lr": 1e-3}, ((0.5, 0.5),), label="SGD", color=PALETTE[0]),),
        steps=10,
    )
    assert session.edit_scene(overflow)
    view._maybe_rebuild()
    contour._maybe_rebuild()
    hm = view._heightmap
    assert hm is not None and np.isfinite(hm.h).all() and 0 < hm.undefined_fraction < 1
    assert session.trajectory is not None and session.trajectory.n_balls == 1
    assert "f is undefined on part of the domain" in editor.undefined_text
    qtbot.wait(20)


def test_a_run_added_to_an_empty_scene_starts_where_f_is_defined(qtbot) -> None:
    empty = Scene(surface=SurfaceSpec(preset=None, expression=LOG), runs=(), steps=30)
    session = Session(empty, threaded=False)
    panel = shown(qtbot, OptimizerPanel(session), (420, 900))
    assert panel.add_run("adam")
    ((x, y),) = session.scene.runs[0].starts
    assert x > 0 and abs(y) < 1  # the defined point nearest the centre (0, 0), which is not
    assert session.trajectory is not None and session.trajectory.n_balls == 1
