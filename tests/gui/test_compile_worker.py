"""The surface editor compiles formulas off the GUI thread: the window never waits on sympy."""

from __future__ import annotations

import time

import pytest
from PyQt6.QtCore import Qt, QTimer

from studio.gui.compile_worker import CompileWorker
from studio.gui.panels.surface_editor import SurfaceEditor
from studio.gui.session import Session
from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec
from studio.surface.budget import surface_if_compiled

HEARTBEAT_MS = 10
MAX_GAP_S = 0.25
WAIT_MS = 30_000  # a cold helper imports sympy first; on a loaded machine that takes a while


@pytest.fixture
def session() -> Session:
    scene = Scene(
        surface=SurfaceSpec(preset="rosenbrock"),
        runs=(RunSpec("sgd", {"lr": 0.001}, ((-1.5, 2.0),), color=PALETTE[0]),),
        steps=40,
    )
    return Session(scene, threaded=False)


class Heartbeat:
    """A QTimer that records when the event loop let it run; gaps are blocks."""

    def __init__(self, qtbot) -> None:
        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return [b - a for a, b in zip(self.times, self.times[1:], strict=False)]


def type_and_apply(qtbot, editor: SurfaceEditor, text: str) -> None:
    editor.expression_edit.selectAll()
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor.expression_edit, text)
    qtbot.keyClick(editor.expression_edit, Qt.Key.Key_Return)


def test_typing_a_slow_formula_never_blocks_the_event_loop(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    text = "tanh(tanh(hypot(log2(2.960155), sigmoid(0)))) + x + 0.00081*y"
    old = session.surface
    beat = Heartbeat(qtbot)
    qtbot.wait(50)
    type_and_apply(qtbot, editor, text)
    # The cue shows at once; the last valid surface stays until the new one arrives.
    assert editor.compiling_label.isVisibleTo(editor)
    assert session.surface is old
    qtbot.waitUntil(lambda: session.scene.surface.expression == text, timeout=WAIT_MS)
    qtbot.wait(50)
    gaps = beat.stop()
    assert len(gaps) > 5
    assert max(gaps) < MAX_GAP_S, sorted(gaps)[-5:]
    assert not editor.compiling_label.isVisibleTo(editor)
    assert editor.error_text == ""
    assert session.surface is not old


def test_a_too_complex_formula_is_refused_and_the_surface_stays(
    qtbot, editor: SurfaceEditor, session: Session
) -> None:
    editor.compiler.budget_s = 1e-6  # any real compile takes longer
    scene, surface = session.scene, session.surface
    type_and_apply(qtbot, editor, "sin(x)*cos(y) + 0.00082")
    qtbot.waitUntil(lambda: bool(editor.error_text), timeout=WAIT_MS)
    assert editor.error_text == "formula too complex to compile within 1e-06 s"
    assert session.scene is scene and session.surface is surface
    assert not editor.compiling_label.isVisibleTo(editor)


def test_the_last_typed_formula_wins(qtbot, editor: SurfaceEditor, session: Session) -> None:
    seen: list[str] = []
    session.sceneChanged.connect(lambda scene: seen.append(scene.surface.expression))
    first, second = "exp(-x^2)*sin(y) + 0.00083", "x^2 + y^2 + 0.00084"
    type_and_apply(qtbot, editor, first)
    type_and_apply(qtbot, editor, second)
    qtbot.waitUntil(lambda: session.scene.surface.expression == second, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not editor.compiler.busy, timeout=WAIT_MS)
    qtbot.wait(100)  # a stale result would land now
    assert first not in seen
    assert session.scene.surface.expression == second


def test_a_compiled_formula_applies_at_once(qtbot, editor: SurfaceEditor, session: Session) -> None:
    text = "x^2 + 3*y^2 + 0.00085"
    spec = SurfaceSpec(
        preset=None,
        expression=text,
        params={"a": 1.0, "b": 100.0},
        domain=editor.effective_domain(),
        height=session.scene.surface.height,
    )
    assert surface_if_compiled(spec) is None
    type_and_apply(qtbot, editor, text)
    qtbot.waitUntil(lambda: session.scene.surface.expression == text, timeout=WAIT_MS)
    session.undo_stack.undo()
    type_and_apply(qtbot, editor, text)  # compiled now: no worker round trip
    assert session.scene.surface.expression == text
    assert not editor.compiler.busy


def test_worker_outlives_nothing(qtbot) -> None:
    """A worker whose owner is gone drops its result quietly."""
    worker = CompileWorker()
    calls: list[int] = []
    worker.request(SurfaceSpec(preset=None, expression="x*y + 0.00086"), lambda: calls.append(1))
    qtbot.waitUntil(lambda: not worker.busy, timeout=WAIT_MS)
    assert calls == [1]
    worker.request(SurfaceSpec(preset=None, expression="x*y*y + 0.00087"), lambda: calls.append(2))
    worker.deleteLater()
    qtbot.wait(200)
