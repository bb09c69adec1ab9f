"""The GUI's model: the scene being edited, its surface and trajectory, the current frame.

Every view and panel subscribes to these signals and edits the scene only through
`Session.edit_scene`, which pushes an undoable command. Each committed edit is its own undo
step: edits merge only within one gesture (a slider being dragged, a spin box being
scrolled, a formula being typed), which a commit (`seal_edits`: Enter, focus leaving, a
slider released), an undo, another field or a pause of `MERGE_GAP_S` ends.

How the window shows the scene (theme, log loss, camera...) is not part of the scene:
`Session.view_settings`, a `ViewSettings` (studio/gui/settings.py) with plain attributes
and a `changed(name)` signal. Re-simulation runs on a worker
thread: a generation counter stops jobs and drops results that a newer edit has overtaken,
so the newest edit always wins and the GUI thread never waits on the engine; the worker
gives way to the GUI thread between steps (studio/gui/gui_priority.py).

Signals:
    sceneChanged(Scene)          the scene (surface spec, runs, steps, seed) changed
    surfaceChanged(Surface)      the resolved surface changed (a different f or domain)
    trajectoryChanged(Trajectory)  a new simulation result is ready
    frameChanged(int)            the step shown, 0..trajectory.steps
    selectedRunChanged(int)      the run the panels and map clicks act on (-1: none)
    playingChanged(bool)
    busyChanged(bool)            a simulation is running in the background
    errorRaised(str)             a one-line problem to show the user (the scene is unchanged)
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtGui import QUndoCommand, QUndoStack

from studio.engine import Checkpoint, RunCache, Trajectory, check_size, validate_hyper
from studio.errors import StudioError
from studio.gui.gui_priority import GUI_GC, PRIORITY
from studio.gui.settings import LOWER_PLOT_CODE, LOWER_PLOT_NAMES, ViewSettings
from studio.scene import NETWORK_LOWER_PLOTS, Scene, load_scene, save_scene
from studio.surface import Surface, surface_from_spec

PLAY_INTERVAL_MS = 33  # about 30 frames/s
# A pause longer than this ends a gesture: the next edit of the same field is a new step.
MERGE_GAP_S = 1.5
# The GIL switch interval while a simulation runs on the worker (Python's default is 5 ms).
SIMULATING_SWITCH_INTERVAL_S = 0.0005
DRAG_SIMULATE_MS = 150  # while the surface is dragged, re-simulate at most this often


class _SceneCommand(QUndoCommand):
    """Replace the scene; edits of one gesture (the same id) collapse into one."""

    def __init__(self, session: Session, old: Scene, new: Scene, text: str, gesture: int) -> None:
        super().__init__(text)
        self._session, self._old, self._new = session, old, new
        self._gesture = gesture

    def id(self) -> int:
        return self._gesture

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _SceneCommand) or other.id() != self.id() or self.id() < 0:
            return False
        self._new = other._new
        return True

    def redo(self) -> None:
        self._session._apply_scene(self._new)

    def undo(self) -> None:
        self._session.seal_edits()  # an edit after an undo starts a step of its own
        self._session._apply_scene(self._old)


class _Overtaken(Exception):
    """Raised in the worker by its checkpoint: a newer edit (or the session's end) has made
    this job pointless."""


class _Relay(QObject):
    """Carries worker-thread results to the GUI thread (a queued signal)."""

    finished = pyqtSignal(int, object, object)  # generation, Trajectory or None, error or None


class Session(QObject):
    sceneChanged = pyqtSignal(object)
    surfaceChanged = pyqtSignal(object)
    trajectoryChanged = pyqtSignal(object)
    frameChanged = pyqtSignal(int)
    selectedRunChanged = pyqtSignal(int)
    playingChanged = pyqtSignal(bool)
    busyChanged = pyqtSignal(bool)
    errorRaised = pyqtSignal(str)
    pathChanged = pyqtSignal(object)

    def __init__(
        self, scene: Scene, parent: QObject | None = None, *, threaded: bool = True
    ) -> None:
        """`threaded=False` simulates synchronously (offscreen export, some tests)."""
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.view_settings = ViewSettings(self)
        self.view_settings.lower_plot = LOWER_PLOT_NAMES[scene.lower_plot]
        # The open gesture: (merge key, its undo-command id, time of its last edit).
        self._gesture: tuple[str, int, float] | None = None
        self._gesture_ids = itertools.count(1)
        self._gesture_continued = False  # the last edit continued the open gesture
        self.path: Path | None = None
        self.scene: Scene = scene
        self.surface: Surface = surface_from_spec(scene.surface)
        self.trajectory: Trajectory | None = None
        self.frame = 0
        self.selected_run = 0 if scene.runs else -1
        self.steps_per_tick = 1
        self._threaded = threaded
        self._generation = 0
        self._in_flight = 0
        # The switch interval before the jobs in flight lowered it (empty: not lowered).
        self._saved_switch: list[float] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulate")
        # Used by that one worker (or, unthreaded, this thread) only: an edit to one run
        # re-simulates that run alone.
        self._cache = RunCache()
        self._relay = _Relay()
        self._relay.finished.connect(self._on_simulated)
        self._drag_timer = QTimer(self)
        self._drag_timer.setSingleShot(True)
        self._drag_timer.setInterval(DRAG_SIMULATE_MS)
        self._drag_timer.timeout.connect(self._simulate_dragged)
        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        # Set when the session goes: a job still running stops at its next step.
        self._closed = closed = threading.Event()
        executor, saved, relay = self._executor, self._saved_switch, self._relay

        def shut_down() -> None:  # a closure, not a method: `self` is half gone by then
            closed.set()
            # A result still on its way must not reach the deleted session (the relay
            # outlives it while the worker holds it).
            with contextlib.suppress(RuntimeError, TypeError):  # already gone at exit
                relay.finished.disconnect()
            executor.shutdown(wait=False, cancel_futures=True)
            if saved:  # a job was in flight: what it held goes back
                sys.setswitchinterval(saved.pop())
                GUI_GC.release()

        self.destroyed.connect(shut_down)
        self._check_runs(scene)
        self._simulate(scene, self.surface)

    # ------------------------------------------------------------------ scene editing

    def edit_scene(
        self,
        new: Scene,
        text: str = "Edit",
        merge_key: str | None = None,
        on_refused: Callable[[str], None] | None = None,
    ) -> bool:
        """Validate and apply `new` as one undoable step; False (and errorRaised) if refused.

        `merge_key`: successive edits with the same key within one gesture (a slider being
        dragged, a spin box being scrolled, a formula being typed) merge into one undo step;
        `seal_edits` (the widget's commit), an undo or a pause ends the gesture.
        `on_refused`: where the one-line reason goes instead of errorRaised (a field that
        shows it beside itself).
        """
        if new == self.scene:
            return True
        try:
            surface_from_spec(new.surface)
            self._check_runs(new)
        except StudioError as exc:
            (on_refused or self.errorRaised.emit)(str(exc))
            return False
        self.undo_stack.push(
            _SceneCommand(self, self.scene, new, text, self._gesture_id(merge_key))
        )
        return True

    def close(self) -> None:
        """The window closes: playback stops, a running simulation stops at its next step,
        and no result reaches the views being taken down."""
        self.pause()
        self._drag_timer.stop()
        self._closed.set()

    def seal_edits(self) -> None:
        """End the open gesture: the next edit is an undo step of its own (a commit: Enter,
        focus leaving a field, a slider released, a preset picked)."""
        self._gesture = None

    def dragging_surface(self) -> bool:
        """Whether a gesture on the surface (a parameter slider or a domain spin box being
        dragged or scrolled) goes on past its first edit: views may draw it coarser until
        it settles."""
        return (
            self._gesture_continued
            and self._gesture is not None
            and self._gesture[0].startswith("surface.")
        )

    def _gesture_id(self, merge_key: str | None) -> int:
        """The undo-command id of an edit: the open gesture's when it continues it, a new
        one when `merge_key` starts a gesture, -1 (never merges) without a key."""
        now = time.monotonic()
        if merge_key is None:
            self._gesture = None
            return -1
        open_ = self._gesture
        if open_ is not None and open_[0] == merge_key and now - open_[2] <= MERGE_GAP_S:
            gesture = open_[1]
        else:
            gesture = next(self._gesture_ids) & 0x7FFFFFFF
        # Its first edit is drawn in full at once; the ones that continue it are a drag.
        self._gesture_continued = open_ is not None and gesture == open_[1]
        self._gesture = (merge_key, gesture, now)
        return gesture

    def replace_scene(self, scene: Scene, path: Path | None = None) -> None:
        """Load a whole new scene (New, Open): clears undo history; raises StudioError."""
        surface = surface_from_spec(scene.surface)
        self._check_runs(scene)
        self.pause()
        self.seal_edits()
        self.undo_stack.clear()
        self.selected_run = 0 if scene.runs else -1
        self.frame = 0
        # The last trajectory belongs to another scene (maybe with more runs): no view may
        # draw it against this one's runs while the new one is simulated.
        self.trajectory = None
        self.view_settings.lower_plot = LOWER_PLOT_NAMES[scene.lower_plot]
        self._set(scene, surface)
        self.set_path(path)
        self.undo_stack.setClean()
        self.selectedRunChanged.emit(self.selected_run)

    def open(self, path: Path) -> None:
        """Open a scene file; raises StudioError with the reason, leaving the scene as it was."""
        self.replace_scene(load_scene(path), path=Path(path))

    def save(self, path: Path | None = None) -> None:
        target = Path(path) if path is not None else self.path
        if target is None:
            raise StudioError("no file name: use Save As")
        # The lower plot on screen is saved with the scene (not an undoable edit: a view
        # setting). Validation loss and accuracy exist on a network scene only.
        lower = LOWER_PLOT_CODE[self.view_settings.lower_plot]
        if lower in NETWORK_LOWER_PLOTS and self.scene.surface.network is None:
            lower = "grad"
        scene = dataclasses.replace(self.scene, lower_plot=lower)
        save_scene(scene, target)
        self.scene = scene
        self.set_path(target)
        self.undo_stack.setClean()

    def set_path(self, path: Path | None) -> None:
        self.path = path
        self.pathChanged.emit(path)

    def select_run(self, index: int) -> None:
        index = index if 0 <= index < len(self.scene.runs) else -1
        if index != self.selected_run:
            self.selected_run = index
            self.selectedRunChanged.emit(index)

    def update_run(
        self,
        index: int,
        text: str,
        merge_key: str | None = None,
        on_refused: Callable[[str], None] | None = None,
        **changes,
    ) -> bool:
        """Edit one run's fields (`hyper=..., starts=..., color=...`) as an undoable step."""
        runs = list(self.scene.runs)
        runs[index] = dataclasses.replace(runs[index], **changes)
        return self.edit_scene(
            dataclasses.replace(self.scene, runs=tuple(runs)), text, merge_key, on_refused
        )

    def _apply_scene(self, scene: Scene) -> None:
        """Called by undo commands: the scene was validated when the command was made."""
        # Keep the Surface object when its spec is unchanged: views rebuild their meshes on
        # surfaceChanged, and dragging a start point must not rebuild a 150×150 mesh.
        same = scene.surface == self.scene.surface
        self._set(scene, self.surface if same else surface_from_spec(scene.surface))
        if self.selected_run >= len(scene.runs):
            self.select_run(len(scene.runs) - 1)

    def _set(self, scene: Scene, surface: Surface) -> None:
        surface_changed = surface is not self.surface
        self.scene, self.surface = scene, surface
        self.sceneChanged.emit(scene)
        if surface_changed:
            self.surfaceChanged.emit(surface)
        self._simulate(scene, surface)

    @staticmethod
    def _check_runs(scene: Scene) -> None:
        """Refuse, before it becomes an undo step, a scene the engine would refuse: bad
        hyperparameters, or a trajectory too large to keep (balls × steps)."""
        balls = 0
        for run in scene.runs:
            hyper = validate_hyper(run.optimizer, run.hyper)
            if run.enabled:
                starts = run.grid[0] * run.grid[1] if run.grid is not None else len(run.starts)
                balls += starts * (1 + int(hyper.get("workers", 0)))
        check_size(balls, scene.steps)

    # ------------------------------------------------------------------ simulation

    def _simulate(self, scene: Scene, surface: Surface) -> None:
        if self._threaded and self.dragging_surface():
            # A drag re-simulates at most every DRAG_SIMULATE_MS (the newest scene then):
            # a simulation per slider step kept the worker busy and the GUI thread short of
            # the GIL, while the surface itself is what the drag is about.
            if not self._drag_timer.isActive():
                self._drag_timer.start()
            return
        self._drag_timer.stop()
        self._submit(scene, surface)

    def _simulate_dragged(self) -> None:
        if self._in_flight:
            # The job of the drag's last round is still on its way: a new one would make
            # it pointless (it would be abandoned), and one that is always overtaken never
            # shows a path. Let it land, then simulate the scene the drag is at.
            self._drag_timer.start()
            return
        # No head start: during a drag the GUI thread's frames come first.
        self._submit(self.scene, self.surface, head_start=False)

    def _submit(self, scene: Scene, surface: Surface, head_start: bool = True) -> None:
        self._generation += 1
        generation = self._generation
        runs = list(scene.runs)
        if not self._threaded:
            self._in_flight += 1
            self._on_simulated(generation, *self._run_engine(surface, runs, scene))
            return
        if self._in_flight == 0:
            self._lower_switch_interval()
            GUI_GC.hold()
            self.busyChanged.emit(True)
        self._in_flight += 1
        self._executor.submit(self._work, generation, surface, runs, scene, head_start)

    def _work(
        self, generation: int, surface: Surface, runs: list, scene: Scene, head_start: bool
    ) -> None:
        def checkpoint() -> None:  # before every step: give way to the window, or give up
            if generation != self._generation or self._closed.is_set():
                raise _Overtaken
            PRIORITY.wait_turn()

        try:
            if head_start:
                PRIORITY.head_start()
            checkpoint()
            result = self._run_engine(surface, runs, scene, checkpoint)
        except _Overtaken:  # a newer edit's job is queued behind this one
            result = (None, None)
        self._relay.finished.emit(generation, *result)

    def _run_engine(
        self, surface: Surface, runs: list, scene: Scene, checkpoint: Checkpoint | None = None
    ):
        try:
            if scene.surface.network is not None:  # trains, then its plane and loss grid
                from studio.network.landscape import simulate_landscape

                # Without the weights: the views draw plane coordinates, and holding the
                # last result's weights through the next training would double the memory.
                landscape = simulate_landscape(
                    scene, self._cache, checkpoint=checkpoint, keep_weights=False
                )
                return landscape, None
            result = self._cache.simulate(
                surface, runs, scene.steps, scene.seed, checkpoint=checkpoint
            )
            return result, None
        except StudioError as exc:
            return None, str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug: shown as an error, never a busy window
            return None, f"internal error: {type(exc).__name__}: {exc}"

    def _on_simulated(
        self, generation: int, trajectory: Trajectory | None, error: str | None
    ) -> None:
        self._in_flight -= 1
        if self._in_flight == 0 and self._threaded:
            self._restore_switch_interval()
            GUI_GC.release()
            if not self._closed.is_set():
                self.busyChanged.emit(False)
        if generation != self._generation or self._closed.is_set():
            return
        if error is not None:
            self.errorRaised.emit(error)
            return
        self.trajectory = trajectory
        # Clamp before anyone hears of the new trajectory: a shorter one (Steps lowered below
        # the frame on screen) must never be indexed at the old frame by a slot.
        self.frame = min(self.frame, self.last_frame)
        landscape = getattr(trajectory, "surface", None)  # a network scene's new plane
        if landscape is not None and landscape is not self.surface:
            self.surface = landscape
            self.surfaceChanged.emit(landscape)
        self.trajectoryChanged.emit(trajectory)
        self.set_frame(self.frame)  # announce the (kept or clamped) step

    def _lower_switch_interval(self) -> None:
        """While the worker simulates, hand the GIL over more often.

        The worker waits while the GUI thread works, except for the slices it takes when
        the GUI never sleeps (studio/gui/gui_priority.py); in those, every GIL hand-back the
        GUI thread needs (Qt calls, painting) waits up to a switch interval behind the
        engine's step loop (docs/architecture.md#threading). The interval is process-wide,
        so it is lowered only while a job is in flight and restored after.
        """
        if not self._saved_switch:
            self._saved_switch.append(sys.getswitchinterval())
            sys.setswitchinterval(min(self._saved_switch[0], SIMULATING_SWITCH_INTERVAL_S))

    def _restore_switch_interval(self) -> None:
        if self._saved_switch:
            sys.setswitchinterval(self._saved_switch.pop())

    @property
    def busy(self) -> bool:
        return self._in_flight > 0 or self._drag_timer.isActive()

    def wait_for_simulation(self, timeout_ms: int = 10_000) -> bool:
        """Run the event loop until every queued simulation has reported (tests, export).

        A loop that sleeps between events, not a processEvents poll: the worker simulates
        while the GUI thread sleeps (studio/gui/gui_priority.py)."""
        from PyQt6.QtCore import QDeadlineTimer, QEventLoop

        deadline = QDeadlineTimer(timeout_ms)
        loop = QEventLoop()
        while self.busy and not deadline.hasExpired():
            QTimer.singleShot(5, loop.quit)
            loop.exec()
        return not self.busy

    # ------------------------------------------------------------------ playback

    @property
    def last_frame(self) -> int:
        return 0 if self.trajectory is None else self.trajectory.positions.shape[0] - 1

    def set_frame(self, frame: int) -> None:
        frame = max(0, min(int(frame), self.last_frame))
        changed = frame != self.frame
        self.frame = frame
        if changed or self.trajectory is not None:
            self.frameChanged.emit(frame)

    def step(self, delta: int) -> None:
        self.pause()
        self.set_frame(self.frame + delta)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        if self.frame >= self.last_frame:
            self.set_frame(0)
        if not self._timer.isActive():
            self._timer.start()
            self.playingChanged.emit(True)

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playingChanged.emit(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def restart(self) -> None:
        self.set_frame(0)
        self.play()

    def set_steps_per_tick(self, n: int) -> None:
        self.steps_per_tick = max(1, int(n))

    def set_speed_fps(self, fps: float) -> None:
        self._timer.setInterval(max(1, int(1000 / max(1.0, fps))))

    def _tick(self) -> None:
        nxt = self.frame + self.steps_per_tick
        if nxt >= self.last_frame:
            self.set_frame(self.last_frame)
            self.pause()
        else:
            self.set_frame(nxt)
