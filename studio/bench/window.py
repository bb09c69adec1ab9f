"""`studio bench` window rows: interactive frames/s of the studio window while it plays.

The scene: ten optimizers racing on Rosenbrock (150×150 mesh, trails on), the window at
1600×1000 with every dock open, playback asking for 60 frames/s. The figure is the number of
distinct 3D frames painted per second (each `frameSwapped` that shows a new step), the frame
rate a user sees. Software GL (Mesa llvmpipe) under Xvfb unless the display has a GPU.

Baseline: the same window with the 3D view as a QOpenGLWidget (`View3D`), the way pyqtgraph
examples embed it. A QOpenGLWidget makes Qt compose the whole top-level window through OpenGL
whenever any widget repaints (the map and loss docks do, every frame); the studio hosts the
view in a native QOpenGLWindow instead (`View3DPanel`), which repaints only itself.

Edit latency: the time from an edit (a learning rate) to the first 3D frame painted with
the new trajectories; the simulation runs off the GUI thread, so this is the engine's time
plus a paint. On a network scene (the shipped "Optimizers and noise on digits 0/1") the
edit retrains every run and recomputes the landscape plane and its loss grid.

Parameter drag: a surface parameter's slider moved one step every 10 ms through its own
`valueChanged` (the path a mouse drag takes), with the event loop running; the figure is the
number of 3D frames painted per second that show a new surface (a rebuilt height map), the
rate at which the surface follows the drag. The longest event-loop gap is reported beside.
Baseline: the same drag with the simulation thread not giving way to the GUI thread
(studio/gui/gui_priority.py switched off), as the studio simulated before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from studio.bench.table import BenchRow

WINDOW_SIZE = (1600, 1000)
REQUESTED_FPS = 60
RUNS = (
    ("sgd", 1e-3),
    ("momentum", 5e-4),
    ("adam", 0.02),
    ("rmsprop", 0.01),
    ("nesterov", 5e-4),
    ("adagrad", 0.3),
    ("adamw", 0.02),
    ("amsgrad", 0.02),
    ("nadam", 0.02),
    ("adadelta", 1.0),
)


def _scene(steps: int = 5000):
    from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

    runs = tuple(
        RunSpec(
            name,
            {"lr": lr},
            ((-1.8 + 0.35 * i, 2.5 - 0.3 * i),),
            label=name,
            color=PALETTE[i % len(PALETTE)],
        )
        for i, (name, lr) in enumerate(RUNS)
    )
    return Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=steps)


@contextmanager
def _window(scene, widget_baseline: bool = False) -> Iterator[tuple[object, object]]:
    """A shown 1600×1000 main window on `scene`, and the signal its 3D view emits per paint."""
    from studio.gui.app import get_app
    from studio.gui.main_window import MainWindow
    from studio.gui.views.view3d import View3D

    app = get_app()
    window = MainWindow(restore=False, autoplay=False)
    window.session.replace_scene(scene)
    try:
        if widget_baseline:
            window.view3d = View3D(window.session)
            window.setCentralWidget(window.view3d)
            swapped = window.view3d.frameSwapped
        else:
            swapped = window.view3d.view.frameSwapped
        window.resize(*WINDOW_SIZE)
        window.show()
        window.session.wait_for_simulation()
        settle = time.perf_counter() + 1.0
        while time.perf_counter() < settle:  # first paints, shader compiles
            app.processEvents()
        yield window, swapped
    finally:
        window.session.pause()
        window.session.undo_stack.setClean()  # no "save changes?" prompt
        window.close()
        window.deleteLater()
        app.processEvents()


def played_fps(seconds: float, widget_baseline: bool = False) -> float:
    """Distinct 3D frames painted per second while the window plays the bench scene."""
    from PyQt6.QtCore import QEventLoop, QTimer

    with _window(_scene(), widget_baseline) as (window, swapped):
        painted: set[int] = set()
        swapped.connect(lambda: painted.add(window.session.frame))
        window.session.set_speed_fps(REQUESTED_FPS)
        window.session.set_frame(0)
        window.session.play()
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        start = time.perf_counter()
        loop.exec()
        return len(painted) / (time.perf_counter() - start)


def edit_latency_ms(scene, repeats: int) -> float:
    """Median time from an edit (run 1's learning rate) to the first 3D frame painted
    with the new trajectories, the window idle at mid-run."""
    from PyQt6.QtCore import QEventLoop, QTimer

    with _window(scene) as (window, swapped):
        session = window.session
        session.set_frame(session.last_frame // 2)
        loop = QEventLoop()
        state: dict[str, object] = {"old": None, "at": 0.0}

        def on_swap() -> None:
            # The first frame painted once the session holds the new trajectory (the 3D
            # view may paint it from inside the trajectoryChanged signal, before any other
            # slot runs, so the test is on the trajectory, not on the signal).
            if session.trajectory is not state["old"]:
                state["at"] = time.perf_counter()
                loop.quit()

        swapped.connect(on_swap)
        guard = QTimer()  # never hang the bench
        guard.setSingleShot(True)
        guard.timeout.connect(loop.quit)
        timings = []
        for k in range(repeats):
            run = session.scene.runs[0]
            lr = run.hyper.get("lr", 0.001) * (1.25 if k % 2 == 0 else 0.8)
            state["old"], state["at"] = session.trajectory, math.inf  # inf: never painted
            guard.start(5000)
            start = time.perf_counter()
            session.update_run(0, "lr", hyper={**run.hyper, "lr": lr})
            loop.exec()
            timings.append(float(state["at"]) - start)
        return float(np.median(timings)) * 1e3


DRAG_TICK_MS = 10  # a mouse drag delivers a new slider position about this often
DRAG_STEP = 4  # slider positions per tick (of PARAM_SLIDER_STEPS): a steady drag
CUSTOM_FORMULA = "a*sin(x)*cos(y) + (x^2 + y^2)/10"


def _custom_scene():
    from dataclasses import replace

    from studio.scene import SurfaceSpec

    spec = SurfaceSpec(preset=None, expression=CUSTOM_FORMULA, params={"a": 1.0})
    return replace(_scene(steps=500), surface=spec)


def drag_fps(scene, param: str, seconds: float) -> tuple[float, float]:
    """(3D frames painted per second that show a new surface, longest event-loop gap in
    ms) while parameter `param`'s slider is dragged back and forth through its signal path."""
    from PyQt6.QtCore import QEventLoop, QTimer

    with _window(scene) as (window, swapped):
        row = window.surface_editor._param_rows[param]
        slider = row.slider
        view = window.view3d.view  # the GL window that paints (View3DWindow)
        seen: dict[str, object] = {"hm": view._heightmap}
        new_surfaces = [0]

        def on_swap() -> None:
            if view._heightmap is not seen["hm"]:
                seen["hm"] = view._heightmap
                new_surfaces[0] += 1

        swapped.connect(on_swap)
        direction = [DRAG_STEP]
        beats: list[float] = []

        def tick() -> None:
            beats.append(time.perf_counter())
            pos = slider.value() + direction[0]
            if not slider.minimum() <= pos <= slider.maximum():
                direction[0] = -direction[0]
                pos = slider.value() + direction[0]
            slider.setValue(pos)

        timer = QTimer()
        timer.setInterval(DRAG_TICK_MS)
        timer.timeout.connect(tick)
        loop = QEventLoop()
        slider.setSliderDown(True)
        timer.start()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        start = time.perf_counter()
        loop.exec()
        elapsed = time.perf_counter() - start
        timer.stop()
        slider.setSliderDown(False)
        swapped.disconnect(on_swap)
        gaps = np.diff(beats) if len(beats) > 1 else np.array([elapsed])
        return new_surfaces[0] / elapsed, float(gaps.max()) * 1e3


def window_section(quick: bool) -> tuple[str, list[BenchRow]]:
    from studio.gui.display import display_for_gl
    from studio.gui.main_window import default_scene

    seconds, repeats = (3.0, 3) if quick else (8.0, 9)
    with display_for_gl():
        ours = played_fps(seconds)
        theirs = played_fps(seconds, widget_baseline=True)
        default = default_scene()
        latency_default = edit_latency_ms(default, repeats)
        big = _scene(steps=1000)
        latency_big = edit_latency_ms(big, repeats)
        network = _network_scene()
        latency_network = edit_latency_ms(network, max(3, repeats // 3))
        drag_seconds = 3.0 if quick else 6.0
        drags = [
            (
                f"Rosenbrock's b, {len(big.runs)} optimizers",
                drag_fps(_scene(500), "b", drag_seconds),
                _without_priority(lambda: drag_fps(_scene(500), "b", drag_seconds)),
            ),
            (
                f"custom formula's a ({CUSTOM_FORMULA})",
                drag_fps(_custom_scene(), "a", drag_seconds),
                None,
            ),
        ]
    w, h = WINDOW_SIZE
    return "Studio window (software GL unless the display has a GPU)", [
        BenchRow(
            f"window {w}x{h} playing 10 balls + trails, 150x150 mesh, all docks",
            ours,
            "frames/s",
            baseline=theirs,
            baseline_name="3D view as QOpenGLWidget",
            target=">= 30 frames/s",
        ),
        BenchRow(
            f"edit -> new paths painted, default scene ({len(default.runs)} optimizers x "
            f"{default.steps} steps)",
            latency_default,
            "ms",
            lower_is_better=True,
            target="<= 50 ms",
        ),
        BenchRow(
            f"edit -> new paths painted, {len(big.runs)} optimizers x {big.steps} steps",
            latency_big,
            "ms",
            lower_is_better=True,
        ),
        BenchRow(
            f"edit -> new paths painted, network scene ({len(network.runs)} optimizers x "
            f"{network.steps} steps on digits 0/1, plane and grid recomputed)",
            latency_network,
            "ms",
            lower_is_better=True,
            target="<= 1500 ms",
        ),
        *(
            row
            for name, (fps, gap), base in drags
            for row in (
                BenchRow(
                    f"dragging {name}: new surfaces painted",
                    fps,
                    "frames/s",
                    baseline=None if base is None else base[0],
                    baseline_name=NO_PRIORITY if base is not None else "",
                    target=">= 20 frames/s",
                ),
                BenchRow(
                    f"dragging {name}: longest event-loop gap",
                    gap,
                    "ms",
                    baseline=None if base is None else base[1],
                    baseline_name=NO_PRIORITY if base is not None else "",
                    lower_is_better=True,
                ),
            )
        ),
    ]


NO_PRIORITY = "simulation not giving way"


def _without_priority(measure: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    """`measure()` with the simulation thread running beside the GUI thread regardless."""
    from studio.gui.gui_priority import PRIORITY

    active, PRIORITY.active = PRIORITY.active, False
    try:
        return measure()
    finally:
        PRIORITY.active = active


def _network_scene():
    from studio.resources import asset_path
    from studio.scene import load_scene

    return load_scene(asset_path("scenes/digits01_optimizers_noise.json"))
