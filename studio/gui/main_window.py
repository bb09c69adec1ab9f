"""Walking-skeleton window: Rosenbrock in 3D and one ball rolling down it by plain GD.

It proves install → Qt → OpenGL → pyqtgraph → NumPy end to end; the studio window replaces it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QMainWindow


def _rosenbrock(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(p: np.ndarray) -> np.ndarray:
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


class MainWindow(QMainWindow):
    def __init__(self, scene_path: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Descent Studio")
        self.resize(1280, 800)
        self.view = gl.GLViewWidget()
        self.view.setBackgroundColor((24, 26, 32))
        self.view.setCameraPosition(distance=9, elevation=32, azimuth=-60)
        self.setCentralWidget(self.view)

        xs = np.linspace(-2, 2, 150)
        ys = np.linspace(-1, 3, 150)
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        z = np.log1p(_rosenbrock(gx, gy))
        self._zscale = 2.0 / z.max()
        cmap = pg.colormap.get("viridis")
        colors = cmap.map((z - z.min()) / np.ptp(z), mode="float")
        surface = gl.GLSurfacePlotItem(x=xs, y=ys, z=z * self._zscale,
                                       colors=colors.reshape(-1, 4), smooth=False)
        self.view.addItem(surface)
        self.ball = gl.GLScatterPlotItem(size=0.18, color=(1.0, 0.35, 0.2, 1.0), pxMode=False)
        self.ball.setGLOptions("translucent")
        self.view.addItem(self.ball)
        self._pos = np.array([-1.5, 2.0])
        self._place_ball()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._step)
        self.timer.start(30)

    def _place_ball(self) -> None:
        x, y = self._pos
        z = np.log1p(_rosenbrock(x, y)) * self._zscale + 0.08
        self.ball.setData(pos=np.array([[x, y, z]]))

    def _step(self) -> None:
        self._pos = self._pos - 1e-3 * _rosenbrock_grad(self._pos)
        self._place_ball()
