"""Build the `Surface` a scene's `SurfaceSpec` describes, cached for repeated calls.

The GUI rebuilds the surface on every edit; compiling costs 50-300 ms, so the result is
cached on a hashable key made of the spec's values (a spec holds a dict, which is not).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from studio.scene import SurfaceSpec
from studio.surface.errors import ExpressionError, UnknownPresetError
from studio.surface.presets import PRESETS, Preset
from studio.surface.surface import Surface, make_data_surface, make_surface
from studio.surface.syntax import check_params

_Key = tuple[
    str | None,
    str,
    tuple[tuple[str, float], ...],
    tuple[float, float, float, float] | None,
    str,
    str,
    tuple[tuple[float, float], ...] | None,
]


def surface_from_spec(spec: SurfaceSpec) -> Surface:
    """The surface of a spec: a preset, optionally with its formula, parameters, domain or
    (a data-fit preset) data rows overridden and its loss summed instead of averaged. A
    preset edited in its formula, parameters or rows loses its listed minima (they no longer
    hold). Raises `UnknownPresetError` or `ExpressionError` (both StudioError).
    A network scene's surface is its landscape, known once trained: until then a flat
    placeholder (`studio.network.landscape.pending_surface`)."""
    if spec.network is not None:
        from studio.network.landscape import pending_surface

        return pending_surface(spec)  # type: ignore[return-value]
    params = check_params(spec.params)
    domain = None if spec.domain is None else tuple(float(v) for v in spec.domain)
    if domain is not None and len(domain) != 4:
        raise ExpressionError("domain must be four numbers xmin, xmax, ymin, ymax")
    key: _Key = (
        spec.preset,
        spec.expression.strip(),
        tuple(sorted(params.items())),
        domain,
        spec.height,
        spec.reduction,
        None if spec.data is None else tuple((float(u), float(v)) for u, v in spec.data),
    )
    return _cached(key)


def preset_surface(name: str) -> Surface:
    """The surface of preset `name`, as the preset defines it."""
    return _cached((name, "", (), None, "auto", "mean", None))


@functools.lru_cache(maxsize=64)
def _cached(key: _Key) -> Surface:
    name, expression, params_items, domain, height, reduction, data = key
    params: Mapping[str, float] = dict(params_items)
    chosen = "auto" if height in ("", "auto") else height
    preset = PRESETS.get(name) if name is not None else None
    if name is not None and preset is None:
        raise UnknownPresetError(name)
    if (reduction != "mean" or data is not None) and not (preset and preset.data_fit):
        # Only a data-fit preset has rows to reduce over or to replace.
        raise ExpressionError(
            "data rows and the loss reduction apply to data-fit surfaces only "
            f"({', '.join(p.name for p in PRESETS.values() if p.data_fit)})"
        )
    if preset is None:
        if not expression:
            raise ExpressionError("empty expression")
        return make_surface(expression, params, domain, height=None if chosen == "auto" else chosen)
    return _from_preset(preset, expression, params, domain, chosen, reduction, data)


def _from_preset(
    preset: Preset,
    expression: str,
    params: Mapping[str, float],
    domain: tuple[float, float, float, float] | None,
    height: str,
    reduction: str = "mean",
    data: tuple[tuple[float, float], ...] | None = None,
) -> Surface:
    unknown = sorted(set(params) - set(preset.params))
    if unknown and not expression:  # a typo in a parameter must not be silently ignored
        has = ", ".join(preset.params) or "none"
        raise ExpressionError(
            f"{preset.name} has no parameter '{unknown[0]}' (its parameters: {has})"
        )
    merged = {**preset.params, **params}
    edited = bool(expression and expression != preset.expression) or merged != preset.params
    edited = edited or (data is not None and data != preset.data)
    text = expression or preset.expression
    minima = () if edited else preset.minima
    if reduction == "sum":  # the same minimiser, its height the sum over the rows
        minima = tuple((x, y, z * len(preset.data)) for x, y, z in minima)
    title = f"{preset.title} (edited)" if edited else preset.title
    final_height = preset.height if height == "auto" else height
    if preset.data_fit:
        return make_data_surface(
            text,
            preset.data if data is None else data,
            merged,
            domain or preset.domain,
            name=preset.name,
            title=title,
            minima=minima,
            height=final_height,
            reduction=reduction,
        )
    return make_surface(
        text,
        merged,
        domain or preset.domain,
        name=preset.name,
        title=title,
        minima=minima,
        height=final_height,
    )
