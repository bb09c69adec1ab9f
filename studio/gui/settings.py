"""The studio's QSettings, named explicitly so tests and the app agree on the store, and
the window's view settings as one observable object (`ViewSettings`, on the session).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from PyQt6.QtCore import QObject, QSettings, pyqtSignal

from studio.scene import LOWER_PLOTS as LOWER_PLOT_CODES

MAX_RECENT = 8


def studio_settings() -> QSettings:
    return QSettings("Descent Studio", "Descent Studio")


def recent_files() -> list[str]:
    value = studio_settings().value("recent", [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-item list
        value = [value]
    return [str(v) for v in value or []][:MAX_RECENT]


def add_recent_file(path: str) -> None:
    items = [path] + [p for p in recent_files() if p != path]
    studio_settings().setValue("recent", items[:MAX_RECENT])


def clear_recent_files() -> None:
    studio_settings().setValue("recent", [])


# ----------------------------------------------------------------------------- view settings


class Camera(NamedTuple):
    """The 3D camera: angles in degrees, distance in world units.

    `preset` names the camera preset the view is framed for ("isometric", "top", ...) while
    the user has not turned or zoomed it: the framing then follows the panel's size, so an
    export frames the surface for its own size instead of copying `distance`.
    """

    azimuth: float = -60.0
    elevation: float = 32.0
    distance: float = 0.0
    preset: str | None = "isometric"

    def for_export(self) -> tuple[float, float, float | None]:
        """(azimuth, elevation, distance), the distance None while framed by a preset."""
        return (self.azimuth, self.elevation, None if self.preset else self.distance)


LOWER_PLOTS = ("Gradient norm", "Learning rate", "Validation loss", "Accuracy")
# The names a scene file, `studio render --lower-plot` and `RenderOptions` use, both ways.
LOWER_PLOT_NAMES = dict(zip(LOWER_PLOT_CODES, LOWER_PLOTS, strict=True))
LOWER_PLOT_CODE = {name: code for code, name in LOWER_PLOT_NAMES.items()}

# name -> default. Only these names are settings; `changed` carries the name that changed.
VIEW_DEFAULTS: dict[str, Any] = {
    "dark": True,  # theme: dark (True) or light
    "log_loss": True,  # log-scale loss axes
    "lower_plot": LOWER_PLOTS[0],
    "wireframe": False,  # 3D mesh lines
    "floor_contours": False,  # isolines on the 3D floor
    "trail_length": None,  # steps of trail behind each ball; None: the whole path
    "axes": True,  # 3D axes with ticks, the map's axis names
    "colorbar": True,  # the map's colour bar
    "camera": Camera(),
}
# Those kept between sessions, as QSettings keys.
PERSISTED = {"dark": "view/dark"}


class ViewSettings(QObject):
    """How the window shows a scene (not part of the scene, never undone; the one exception is
    `lower_plot`, which a scene may store: opening a scene sets it, saving one writes it).

    Plain attributes (`settings.dark`, `settings.camera`, ...); assigning one that differs
    emits `changed(name)`. Views and menus observe `changed`; the export dialog reads the
    attributes. `load`/`save` keep the `PERSISTED` ones in QSettings.
    """

    changed = pyqtSignal(str)

    dark: bool
    log_loss: bool
    lower_plot: str
    wireframe: bool
    floor_contours: bool
    trail_length: int | None
    axes: bool
    colorbar: bool
    camera: Camera

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        for name, value in VIEW_DEFAULTS.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in VIEW_DEFAULTS:
            super().__setattr__(name, value)
            return
        value = self._checked(name, value)
        if getattr(self, name) == value:
            return
        object.__setattr__(self, name, value)
        self.changed.emit(name)

    def update(self, **values: Any) -> None:
        """Set several at once (each that differs emits `changed`)."""
        for name, value in values.items():
            if name not in VIEW_DEFAULTS:
                raise AttributeError(f"no view setting {name!r}")
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in VIEW_DEFAULTS}

    @staticmethod
    def _checked(name: str, value: Any) -> Any:
        if name == "lower_plot":
            if value not in LOWER_PLOTS:
                raise ValueError(f"lower_plot must be one of {', '.join(LOWER_PLOTS)}")
            return value
        if name == "trail_length":
            return None if value is None else max(0, int(value))
        if name == "camera":
            return Camera(*value)
        return bool(value)

    def load(self, store: QSettings | None = None) -> None:
        store = store or studio_settings()
        for name, key in PERSISTED.items():
            default = VIEW_DEFAULTS[name]
            setattr(self, name, store.value(key, default, type=type(default)))

    def save(self, store: QSettings | None = None) -> None:
        store = store or studio_settings()
        for name, key in PERSISTED.items():
            store.setValue(key, getattr(self, name))
