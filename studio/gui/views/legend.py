"""The run legend as rich text: colour swatch, label, and how each run's balls ended up."""

from __future__ import annotations

import html

import numpy as np

from studio.gui.theme import Theme
from studio.gui.views.trails import CONVERGED, DIVERGED


def run_label(run, index: int) -> str:
    return run.label or f"{run.optimizer} #{index + 1}"


def run_outcome(status: np.ndarray, stop_step: np.ndarray) -> str:
    """'converged at step 212', 'diverged at step 9', '14/25 converged', or ''."""
    if status.size == 1:
        if status[0] == CONVERGED:
            return f"converged at step {int(stop_step[0])}"
        if status[0] == DIVERGED:
            return f"diverged at step {int(stop_step[0])}"
        return ""
    parts = []
    for code, word in ((CONVERGED, "converged"), (DIVERGED, "diverged")):
        k = int((status == code).sum())
        if k:
            parts.append(f"{k}/{status.size} {word}")
    return ", ".join(parts)


def legend_html(runs, trajectory, status: np.ndarray | None, theme: Theme,
                inline: bool = False) -> str:
    """`status`: each ball's status at the shown frame (None before the first trajectory).

    `inline`: one wrapping line of entries (a legend strip) instead of a table.
    """
    rows = []
    ball_run = None if trajectory is None else np.asarray(trajectory.ball_run)
    for i, run in enumerate(runs):
        if not run.enabled:
            continue
        note = ""
        if ball_run is not None and status is not None:
            mine = ball_run == i
            note = run_outcome(status[mine], np.asarray(trajectory.stop_step)[mine])
        colour = theme.diverged if "diverged" in note else theme.foreground
        note_html = (f" <span style='color:{colour}; font-size:small'>— {html.escape(note)}"
                     "</span>" if note else "")
        if inline:
            label = html.escape(run_label(run, i)).replace(" ", "&nbsp;")
            rows.append(f"<span style='color:{run.color}; font-size:large'>●</span>"
                        f"&nbsp;{label}{note_html.replace(' — ', '&nbsp;— ')}")
            continue
        rows.append(f"<tr><td><span style='color:{run.color}; font-size:large'>●</span></td>"
                    f"<td style='padding-left:4px'>{html.escape(run_label(run, i))}"
                    f"{note_html}</td></tr>")
    if not rows:
        return ""
    if inline:
        return "&nbsp;&nbsp;&nbsp; ".join(rows)
    return f"<table cellspacing='0' cellpadding='1'>{''.join(rows)}</table>"
