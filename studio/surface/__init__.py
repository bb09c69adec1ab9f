"""Loss surfaces: typed formulas parsed safely into exact, vectorised f and ∇f, and presets.

Qt-free. The GUI, the engine, the CLI and export all get a `Surface` from here, usually via
`surface_from_spec(scene.surface)`.
"""

from studio.surface.errors import ExpressionError, UnknownPresetError
from studio.surface.parser import parse_expression
from studio.surface.presets import PRESETS, Preset
from studio.surface.printing import pretty, to_latex
from studio.surface.spec import preset_surface, surface_from_spec
from studio.surface.surface import Surface, make_data_surface, make_surface

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
