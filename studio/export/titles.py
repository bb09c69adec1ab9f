"""An export's title text: the formula as a slide shows it, and the default title."""

from __future__ import annotations

import re

from studio.scene import Scene

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def pretty_formula(text: str) -> str:
    """Formula text as a slide shows it: x^2 → x², 100*(…) → 100(…), a*b → a·b, - → −."""

    def sup(m: re.Match[str]) -> str:
        return m.group(1).translate(_SUPERSCRIPT)

    s = re.sub(r"\^\((-?\d+)\)", sup, text)  # x^(-1) → x⁻¹
    s = re.sub(r"\^(\d+)", sup, s)  # x^2 → x²
    s = re.sub(r"(\d)\*(?=[A-Za-z(])", r"\1", s)  # 100*(y - x²) → 100(y - x²)
    s = s.replace("*", "·")
    s = re.sub(r"(?<![0-9.][eE])-", "−", s)  # keep 1e-3 as it is
    return s


def default_title(scene: Scene, surface: object) -> str:
    """The scene's title, else "Name   f(x, y) = formula" with parameter values filled in."""
    if scene.title.strip():
        return scene.title.strip()
    formula = getattr(surface, "expression", "")
    filled, params = getattr(surface, "formula_with_values", None), getattr(surface, "params", None)
    if filled is not None and params:
        formula = filled()
        formula = re.sub(r"(\d+)\.0\b", r"\1", formula)  # 100.0 → 100
    name = getattr(surface, "title", "")
    shown = f"f(x, y) = {pretty_formula(formula)}" if formula else ""
    if name and name.lower() != "custom":
        return f"{name}    {shown}".strip()
    return shown


__all__ = ["default_title", "pretty_formula"]
