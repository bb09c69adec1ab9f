"""The simulation thread gives way to the GUI thread (studio/gui/gui_priority.py), and a job
overtaken by a newer edit stops instead of running to its end."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import pytest

from studio.gui import gui_priority
from studio.gui.gui_priority import GuiPriority


@pytest.fixture
def busy_gui() -> Iterator[tuple[GuiPriority, list[int]]]:
    """A GuiPriority whose GUI thread works, and a worker taking short steps under it:
    (the priority, [steps the worker has taken])."""
    priority = GuiPriority()
    priority.active = True
    priority.gui_works()
    stop = threading.Event()
    steps = [0]

    def run() -> None:
        while not stop.is_set():
            priority.wait_turn()
            steps[0] += 1
            time.sleep(0.0005)  # a short piece of work

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield priority, steps
    stop.set()
    priority.gui_sleeps()
    thread.join(2)


def test_the_worker_waits_while_the_gui_works_and_goes_when_it_sleeps(busy_gui) -> None:
    priority, steps = busy_gui
    time.sleep(0.02)
    at_start = steps[0]
    time.sleep(gui_priority.STARVE_S * 0.6)  # the GUI thread works, below the limit
    assert steps[0] - at_start <= 1
    priority.gui_sleeps()
    time.sleep(0.05)
    assert steps[0] - at_start > 10


def test_a_gui_that_never_sleeps_still_lets_the_simulation_on(busy_gui) -> None:
    _priority, steps = busy_gui
    time.sleep(3 * (gui_priority.STARVE_S + gui_priority.SLICE_S))
    assert steps[0] > 10  # slices of its own after each STARVE_S of waiting


@pytest.fixture
def steps_taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """[the number of engine steps any simulation thread has taken]: each step waits its
    turn once."""
    taken = [0]
    wait_turn = GuiPriority.wait_turn

    def counted(self: GuiPriority) -> None:
        taken[0] += 1
        wait_turn(self)

    monkeypatch.setattr(GuiPriority, "wait_turn", counted)
    return taken


def test_an_overtaken_simulation_stops_early(qtbot, window, steps_taken: list[int]) -> None:
    session = window.session
    long = 30_000
    # Noisy runs: no ball ever stops early, a job takes all its steps.
    runs = tuple(
        dataclasses.replace(run, optimizer="sgd", hyper={"lr": 1e-4, "grad_noise": 0.5})
        for run in session.scene.runs
    )
    session.edit_scene(dataclasses.replace(session.scene, steps=long, runs=runs))
    qtbot.wait(50)  # the first job is under way
    faster = dataclasses.replace(runs[0], hyper={"lr": 2e-4, "grad_noise": 0.5})
    session.edit_scene(dataclasses.replace(session.scene, runs=(faster, *runs[1:])))
    assert session.wait_for_simulation(60_000)
    assert session.trajectory is not None and session.trajectory.steps == long
    # The second job took every step; the first stopped when the edit came.
    assert long < steps_taken[0] < 1.5 * long


def test_a_closed_session_stops_its_simulation(qtbot, steps_taken: list[int]) -> None:
    from studio.gui.session import Session
    from studio.scene import RunSpec, Scene, SurfaceSpec

    noisy = RunSpec("sgd", {"lr": 1e-4, "grad_noise": 0.5}, ((-1.0, 1.0),))
    session = Session(Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=(noisy,), steps=99_999))
    qtbot.waitUntil(lambda: steps_taken[0] > 100, timeout=5000)  # under way
    session.deleteLater()
    qtbot.wait(100)
    stopped_at = steps_taken[0]
    qtbot.wait(300)
    assert steps_taken[0] == stopped_at < 99_999


def test_the_collector_comes_back_when_the_application_went_first(qapp) -> None:
    """A session let go at exit, after its application: no traceback on quit, and Python's
    automatic collection is on again."""
    import gc

    from PyQt6 import sip

    held = gui_priority.GuiThreadGc()
    held.hold()
    assert not gc.isenabled()
    assert held._collector is not None
    sip.delete(held._collector.timer)  # what the application's teardown does to it
    held.release()
    assert gc.isenabled()
