"""The run legend as rich text: colour swatch, label, and how each run's balls ended up."""

from __future__ import annotations

import html

import numpy as np

from studio.engine import run_labels
from studio.gui.theme import Theme
from studio.gui.views.trails import CONVERGED, DIVERGED, STOPPED


def run_outcome(status: np.ndarray, stop_step: np.ndarray) -> str:
    """'converged at step 212', 'stopped early (step 80)', 'diverged at step 9',
    '14/25 converged', or ''."""
    if status.size == 1:
        if status[0] == CONVERGED:
            return f"converged at step {int(stop_step[0])}"
        if status[0] == STOPPED:
            return f"stopped early (step {int(stop_step[0])})"
        if status[0] == DIVERGED:
            return f"diverged at step {int(stop_step[0])}"
        return ""
    parts = []
    for code, word in (
        (CONVERGED, "converged"),
        (STOPPED, "stopped early"),
        (DIVERGED, "diverged"),
    ):
        k = int((status == code).sum())
        if k:
            parts.append(f"{k}/{status.size} {word}")
    return ", ".join(parts)


MAX_ENTRIES = 10  # a longer legend would squeeze the 3D view, or run off an export's frame
MAX_LABEL = 40  # characters of a run's label in a legend (a longer one is shortened)


def legend_entries(
    runs, trajectory, status: np.ndarray | None
) -> tuple[list[tuple[str, str, str]], int]:
    """(colour, label, outcome) of the first `MAX_ENTRIES` enabled runs, and how many more
    there are. `status`: each ball's status at the frame shown (None: no outcomes yet)."""
    enabled = [(i, run) for i, run in enumerate(runs) if run.enabled]
    ball_run = None if trajectory is None else np.asarray(trajectory.ball_run)
    names = run_labels(runs)
    rows = []
    for i, run in enabled[:MAX_ENTRIES]:
        note = ""
        if ball_run is not None and status is not None:
            mine = ball_run == i
            if mine.any():
                note = run_outcome(status[mine], np.asarray(trajectory.stop_step)[mine])
        label = names[i]
        if len(label) > MAX_LABEL:
            label = label[: MAX_LABEL - 1].rstrip() + "…"
        rows.append((run.color, label, note))
    return rows, max(0, len(enabled) - MAX_ENTRIES)


def _nowrap(text: str) -> str:
    """Escaped text that never breaks inside (lines break only between entries)."""
    return html.escape(text).replace(" ", "&nbsp;")


def legend_html(runs, trajectory, status: np.ndarray | None, theme: Theme) -> str:
    """The enabled runs as one wrapping line of entries (a legend strip above the 3D view).

    `status`: each ball's status at the shown frame (None before the first trajectory).
    Past `MAX_ENTRIES` runs the rest are counted ("+4 more"), not listed.
    """
    entries, more = legend_entries(runs, trajectory, status)
    rows = []
    for colour, label, note in entries:
        note_colour = theme.diverged if "diverged" in note else theme.foreground
        note_html = (
            f"&nbsp;<span style='color:{note_colour}; font-size:small'>—&nbsp;"
            f"{_nowrap(note)}</span>"
            if note
            else ""
        )
        rows.append(
            f"<span style='color:{theme.run_color(colour)}; font-size:large'>●</span>"
            f"&nbsp;{_nowrap(label)}{note_html}"
        )
    if more:
        rows.append(f"+{more}&nbsp;more")
    return "&nbsp;&nbsp;&nbsp; ".join(rows)
