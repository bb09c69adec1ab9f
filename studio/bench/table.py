"""Rows and the printed table of `studio bench`: each figure beside its baseline as a ratio.

Every benchmark measures our way and a baseline (the usual way: a per-ball Python loop,
matplotlib's FuncAnimation) in the same run, so the ratio is meaningful on any machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BenchRow:
    """One measurement: `value` in `unit` (higher is better unless `lower_is_better`)."""

    name: str
    value: float
    unit: str
    baseline: float | None = None  # the same quantity measured the baseline's way
    baseline_name: str = ""
    lower_is_better: bool = False
    target: str = ""  # e.g. ">= 10 M" (shown, not enforced)

    @property
    def ratio(self) -> float | None:
        """How many times better than the baseline (> 1 means we win)."""
        if self.baseline is None or self.baseline <= 0 or self.value <= 0:
            return None
        return self.baseline / self.value if self.lower_is_better else self.value / self.baseline


def _fmt(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e4:
        return f"{value / 1e3:.1f} k"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_table(rows: Sequence[BenchRow], title: str = "") -> str:
    header = ("benchmark", "ours", "unit", "baseline", "baseline is", "ratio", "target")
    body = [
        (
            r.name,
            _fmt(r.value),
            r.unit,
            _fmt(r.baseline) if r.baseline is not None else "-",
            r.baseline_name or "-",
            f"{r.ratio:.1f}x" if r.ratio is not None else "-",
            r.target or "-",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    right = {1, 3, 5}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    out = [title] if title else []
    out += [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    return "\n".join(out)


Rows = tuple[str, list[BenchRow]]  # a section's title and rows
