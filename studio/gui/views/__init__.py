"""The studio's views, each constructible from a Session alone (window or offscreen)."""

from studio.gui.views.contour import ContourView
from studio.gui.views.loss_plot import LossView
from studio.gui.views.view3d import View3D, View3DPanel

__all__ = ["ContourView", "LossView", "View3D", "View3DPanel"]
