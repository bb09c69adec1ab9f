"""Labels that tell runs apart: what the legend, the runs table, exports and CSV call each run.

`run_label` names one run on its own ("Adam (lr 0.05)"); `run_labels` names the runs of a
scene together. Where two automatic labels would read the same (four Adam runs from four
starts), it adds what differs: first the hyperparameters whose values differ within the
group, then the start point, and a number only for runs that are otherwise identical. A
label the user typed is kept as typed; disabled runs take part in no comparison.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from studio.engine.registry import OPTIMIZERS, run_label


def _hyper(run: object) -> dict[str, object]:
    """The run's hyperparameters with the optimizer's defaults filled in."""
    info = OPTIMIZERS.get(getattr(run, "optimizer", ""))
    values: dict[str, object] = (
        {} if info is None else {k: h.default for k, h in info.hyper.items()}
    )
    values.update(getattr(run, "hyper", {}) or {})
    return values


def _number(value: object) -> str:
    return (
        f"{value:g}"
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else str(value)
    )


def _start(run: object) -> str:
    grid = getattr(run, "grid", None)
    if grid is not None:
        return "grid " + "×".join(str(g) for g in grid) if isinstance(grid, tuple) else "grid"
    starts = getattr(run, "starts", ()) or ()
    if not starts:
        return ""
    first = starts[0]
    where = "(" + ", ".join(f"{float(v):.3g}" for v in first) + ")"
    return f"from {where}" + (f" +{len(starts) - 1}" if len(starts) > 1 else "")


def run_labels(runs: Sequence[object]) -> list[str]:
    """One label per run (in order), distinct wherever the runs differ (see module doc)."""
    labels = [run_label(run) for run in runs]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, (run, label) in enumerate(zip(runs, labels, strict=False)):
        # Only runs that are drawn can be confused (a disabled one appears in no legend).
        if not getattr(run, "label", "") and getattr(run, "enabled", True):
            groups[label].append(i)
    for base, members in groups.items():
        if len(members) < 2:
            continue
        hypers = [_hyper(runs[i]) for i in members]
        keys = sorted({k for h in hypers for k in h})
        differing = [
            k for k in keys if k != "lr" and len({_number(h.get(k, "")) for h in hypers}) > 1
        ]
        extra = {
            i: [f"{k} {_number(h.get(k, ''))}" for k in differing if k in h]
            for i, h in zip(members, hypers, strict=False)
        }
        named = {i: ", ".join(extra[i]) for i in members}
        if len(set(named.values())) < len(members):  # the hyperparameters do not tell
            starts = {i: _start(runs[i]) for i in members}
            if len(set(starts.values())) > 1:
                named = {i: ", ".join(p for p in (named[i], starts[i]) if p) for i in members}
        seen: dict[str, int] = defaultdict(int)
        for i in members:
            seen[named[i]] += 1
        count: dict[str, int] = defaultdict(int)
        for i in members:
            note = named[i]
            if seen[note] > 1:  # identical runs: only a number tells them apart
                count[note] += 1
                note = ", ".join(p for p in (note, f"#{count[note]}") if p)
            labels[i] = _join(base, note)
    return labels


def _join(base: str, note: str) -> str:
    """ "Adam (lr 0.05)" + "from (1, 2)" → "Adam (lr 0.05, from (1, 2))"."""
    if not note:
        return base
    if base.endswith(")") and "(" in base:
        return f"{base[:-1]}, {note})"
    return f"{base} ({note})"


__all__ = ["run_label", "run_labels"]
