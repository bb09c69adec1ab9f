"""The studio's views, each constructible from a Session alone (window or offscreen).

The view classes load on first use (PEP 562): an export of one view (`studio render`'s
start-up) imports that view's module, not all of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.gui.views.contour import ContourView
    from studio.gui.views.loss_plot import LossView
    from studio.gui.views.view3d import View3D, View3DPanel

_MODULES = {
    "ContourView": "contour",
    "LossView": "loss_plot",
    "View3D": "view3d",
    "View3DPanel": "view3d",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"studio.gui.views.{module}"), name)


__all__ = ["ContourView", "LossView", "View3D", "View3DPanel"]
