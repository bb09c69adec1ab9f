"""`studio bench`: the benchmark sections and the table they print.

    table.py    BenchRow and the printed table (each figure beside its baseline, as a ratio)
    engine.py   simulate() beside a per-ball Python loop
    export.py   export frames/s and memory beside matplotlib's FuncAnimation
    window.py   the playing window's frames/s and edit latency
    trace.py    `studio trace` to each format: time and peak memory
    network.py  the network lab: training and landscape grid beside one-at-a-time loops
    memory.py   peak RSS of the largest render (each view, MP4 and GIF) and trace accepted

Each section is a `BenchSection`: a name for `--only` and the module and function
`(quick) -> (title, rows)` that measure it. A new benchmark is a module here and a row in
`SECTIONS`. A section's module (and Qt) is loaded only when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from studio.bench.table import BenchRow, Rows, format_table


@dataclass(frozen=True)
class BenchSection:
    """A section: `func`, a function named in module `studio.bench.<module>`, imported only
    when the section runs (every `studio` command builds the bench parser, which needs
    the names alone; the sections import the engine, Qt and more)."""

    name: str
    module: str
    func: str
    draws: bool = False  # needs a display for OpenGL

    def __call__(self, quick: bool) -> Rows:
        section = getattr(importlib.import_module(f"studio.bench.{self.module}"), self.func)
        return section(quick)


SECTIONS: list[BenchSection] = [
    BenchSection("engine", "engine", "engine_section"),
    BenchSection("export", "export", "export_section", draws=True),
    BenchSection("trace", "trace", "trace_section"),
    BenchSection("window", "window", "window_section", draws=True),
    BenchSection("network", "network", "network_section"),
    BenchSection("memory", "memory", "memory_section"),
]


def run_sections(chosen: Sequence[BenchSection], quick: bool) -> None:
    """Print each section's table in turn."""
    from studio.gui.display import display_for_gl

    # One display for every section that draws: the QApplication outlives a section and
    # stays bound to the X server it first met (a private Xvfb must not stop in between).
    with display_for_gl() if any(s.draws for s in chosen) else nullcontext():
        for section in chosen:
            title, rows = section(quick)
            print(format_table(rows, title))
            print()


__all__ = ["SECTIONS", "BenchRow", "BenchSection", "format_table", "run_sections"]
