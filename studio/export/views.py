"""What can be drawn, by name: the Qt-free half of the views registry.

Two tables. `VIEWS`: each view the studio has (one widget each in the window and in an
export), with its title and whether it is 2-D or 3-D. `EXPORT_VIEWS`: what an export frame
shows, one view or several side by side (the first panel is the main one, on the left).
The export layout, the export dialog and `studio render --view` (its choices and --help)
read these tables; the widgets that draw each view are in `studio.gui.views.registry`,
keyed by the same names. Adding a view: a row here and its factory there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViewInfo:
    """One view: `dims` 3 for the surface in perspective, 2 for a flat plot; `trails`:
    it draws paths that follow a trail length (the loss plot always shows whole curves)."""

    name: str
    title: str
    dims: int
    trails: bool


@dataclass(frozen=True)
class ExportView:
    """What an export frame shows: `panels` are view names, the first on the left (60 % of
    the width when there are more), the others stacked on the right."""

    name: str
    title: str
    panels: tuple[str, ...]
    help: str = ""

    @property
    def flat(self) -> bool:
        """Only 2-D plots: overlays share a band above them and never cover data."""
        return all(VIEWS[p].dims == 2 for p in self.panels)

    @property
    def single_3d(self) -> bool:
        """One 3-D view fills the frame: overlays sit in its sky, with no band."""
        return len(self.panels) == 1 and VIEWS[self.panels[0]].dims == 3


VIEWS: dict[str, ViewInfo] = {
    v.name: v
    for v in (
        ViewInfo("3d", "3D surface", 3, trails=True),
        ViewInfo("contour", "Contour map", 2, trails=True),
        ViewInfo("loss", "Loss plots", 2, trails=False),
    )
}

EXPORT_VIEWS: dict[str, ExportView] = {
    v.name: v
    for v in (
        ExportView("3d", "3D surface", ("3d",)),
        ExportView("contour", "Contour map", ("contour",)),
        ExportView("loss", "Loss plots", ("loss",)),
        ExportView("3d+loss", "3D beside loss", ("3d", "loss"), "3D beside the loss plots"),
        ExportView(
            "composite",
            "3D + contour + loss",
            ("3d", "contour", "loss"),
            "3D beside the contour map and loss",
        ),
    )
}

VIEW_NAMES = tuple(EXPORT_VIEWS)


def export_view(name: str) -> ExportView:
    """The export view called `name`; ValueError naming the choices for anything else."""
    try:
        return EXPORT_VIEWS[name]
    except KeyError:
        raise ValueError(f"unknown view {name!r}; one of {', '.join(VIEW_NAMES)}") from None


def views_help() -> str:
    """The views' notes as `render --view`'s help shows them."""
    notes = "; ".join(f"{v.name}: {v.help}" for v in EXPORT_VIEWS.values() if v.help)
    return f"what to draw ({notes})" if notes else "what to draw"


__all__ = [
    "EXPORT_VIEWS",
    "VIEWS",
    "VIEW_NAMES",
    "ExportView",
    "ViewInfo",
    "export_view",
    "views_help",
]
