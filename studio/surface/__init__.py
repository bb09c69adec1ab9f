"""Loss surfaces: typed formulas parsed safely into exact, vectorised f and ∇f, and presets.

Qt-free. The GUI, the engine, the CLI and export all get a `Surface` from here, usually via
`surface_from_spec(scene.surface)`. The sympy side (`parse_expression`, `pretty`,
`to_latex`) loads on first use: a surface whose compiled code is stored needs none of it
(docs/architecture.md#start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.surface.errors import ExpressionError, UnknownPresetError
from studio.surface.presets import PRESETS, Preset
from studio.surface.spec import preset_surface, surface_from_spec
from studio.surface.surface import Surface, make_data_surface, make_surface

if TYPE_CHECKING:
    from studio.surface.parser import parse_expression
    from studio.surface.printing import pretty, to_latex

_LAZY = {
    "parse_expression": "studio.surface.parser",
    "pretty": "studio.surface.printing",
    "to_latex": "studio.surface.printing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'studio.surface' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "PRESETS",
    "ExpressionError",
    "Preset",
    "Surface",
    "UnknownPresetError",
    "make_data_surface",
    "make_surface",
    "parse_expression",
    "preset_surface",
    "pretty",
    "surface_from_spec",
    "to_latex",
]
