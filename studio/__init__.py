"""Descent Studio: gradient-descent optimizers racing on a loss surface you type.

The Python API (the command line is built on it)::

    import studio
    race = studio.make_scene("rosenbrock", studio.run("adam", lr=0.05),
                             studio.run("momentum", lr=2e-4), start=(-1.5, 2), steps=500)
    result = studio.simulate(race)      # result.positions: (steps+1, balls, 2) NumPy array
    result.to_csv("race.csv")
    studio.render(race, "race.mp4")     # shown inline when it is a notebook cell's result

- `make_surface(text, params=, domain=, height=)`: a preset's name or a formula in x and y.
- `run(optimizer, start=, starts=, grid=, label=, color=, **hyper)`: one optimizer run.
- `make_scene(surface, *runs, steps=, seed=, start=, grid=, title=)`: a validated scene.
- `load(path)`, `save(scene, path)`: scene files, as the window opens and saves them.
- `simulate(scene) -> Result`: arrays `positions`, `loss`, `grad_norm`, `lr`, `status`,
  `labels`; `to_csv`, `to_json`, `to_npz`.
- `render(scene, path, **options) -> Clip`: a GIF, MP4 or PNG with `studio render`'s options.
- `StudioError`: every error, with a one-line message a person can act on.

`make_scene` and `make_surface` carry a verb because `studio.scene` and `studio.surface` are
the package's modules of those names. `import studio` is light: NumPy, sympy and Qt load
only when a function needs them, and Qt only for `render`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.errors import StudioError

__version__ = "0.2.0"

__all__ = [
    "Clip",
    "Result",
    "RunDraft",
    "StudioError",
    "__version__",
    "load",
    "make_scene",
    "make_surface",
    "render",
    "run",
    "save",
    "simulate",
]
_API = frozenset(__all__) - {"StudioError", "__version__"}

if TYPE_CHECKING:
    from studio.api import (
        Clip,
        Result,
        RunDraft,
        load,
        make_scene,
        make_surface,
        render,
        run,
        save,
        simulate,
    )


def __getattr__(name: str) -> Any:
    if name in _API:
        from studio import api

        return getattr(api, name)
    raise AttributeError(f"module 'studio' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
