"""`studio bench` window rows: interactive frames/s of the studio window while it plays.

The scene: ten optimizers racing on Rosenbrock (150×150 mesh, trails on), the window at
1600×1000 with every dock open, playback asking for 60 frames/s. The figure is the number of
distinct 3D frames painted per second (each `frameSwapped` that shows a new step), the frame
rate a user sees. Software GL (Mesa llvmpipe) under Xvfb unless the display has a GPU.

Baseline: the same window with the 3D view as a QOpenGLWidget (`View3D`), the way pyqtgraph
examples embed it. A QOpenGLWidget makes Qt compose the whole top-level window through OpenGL
whenever any widget repaints (the map and loss docks do, every frame); the studio hosts the
view in a native QOpenGLWindow instead (`View3DPanel`), which repaints only itself.
"""

from __future__ import annotations

import time

from studio.benchtable import BenchRow

WINDOW_SIZE = (1600, 1000)
REQUESTED_FPS = 60
RUNS = (("sgd", 1e-3), ("momentum", 5e-4), ("adam", 0.02), ("rmsprop", 0.01),
        ("nesterov", 5e-4), ("adagrad", 0.3), ("adamw", 0.02), ("amsgrad", 0.02),
        ("nadam", 0.02), ("adadelta", 1.0))


def _scene():
    from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

    runs = tuple(RunSpec(name, {"lr": lr}, ((-1.8 + 0.35 * i, 2.5 - 0.3 * i),),
                         label=name, color=PALETTE[i % len(PALETTE)])
                 for i, (name, lr) in enumerate(RUNS))
    return Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=5000)


def played_fps(seconds: float, widget_baseline: bool = False) -> float:
    """Distinct 3D frames painted per second while the window plays the bench scene."""
    from PyQt6.QtCore import QEventLoop, QTimer

    from studio.gui.app import get_app
    from studio.gui.main_window import MainWindow
    from studio.gui.views.view3d import View3D

    app = get_app()
    window = MainWindow(restore=False, autoplay=False)
    window.session.replace_scene(_scene())
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
        painted: set[int] = set()
        swapped.connect(lambda: painted.add(window.session.frame))
        window.session.set_speed_fps(REQUESTED_FPS)
        window.session.set_frame(0)
        window.session.play()
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        start = time.perf_counter()
        loop.exec()
        elapsed = time.perf_counter() - start
        window.session.pause()
        return len(painted) / elapsed
    finally:
        window.session.undo_stack.setClean()  # no "save changes?" prompt
        window.close()
        window.deleteLater()
        app.processEvents()


def window_section(quick: bool) -> tuple[str, list[BenchRow]]:
    from studio.commands.render import display_for_gl

    seconds = 3.0 if quick else 8.0
    with display_for_gl():
        ours = played_fps(seconds)
        theirs = played_fps(seconds, widget_baseline=True)
    w, h = WINDOW_SIZE
    return "Studio window (software GL unless the display has a GPU)", [
        BenchRow(f"window {w}x{h} playing 10 balls + trails, 150x150 mesh, all docks",
                 ours, "frames/s", baseline=theirs, baseline_name="3D view as QOpenGLWidget",
                 target=">= 30 frames/s"),
    ]
