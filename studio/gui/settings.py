"""The studio's QSettings, named explicitly so tests and the app agree on the store."""

from __future__ import annotations

from PyQt6.QtCore import QSettings

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
