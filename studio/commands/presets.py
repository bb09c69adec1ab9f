"""`studio presets`: list the preset surfaces (name, formula, domain, minima) as a table."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the preset loss surfaces")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from studio.surface import PRESETS  # sympy loads only when this command runs

    header = ("NAME", "FORMULA", "DOMAIN", "MINIMA (x, y, f)")
    rows = [header]
    for preset in PRESETS.values():
        formula = preset.expression
        if preset.data_fit:
            formula = f"mean over {len(preset.data)} rows (u, v) of {formula}"
        if preset.params:
            formula += "  with " + ", ".join(f"{k}={_num(v)}" for k, v in preset.params.items())
        xmin, xmax, ymin, ymax = preset.domain
        domain = f"[{_num(xmin)}, {_num(xmax)}] x [{_num(ymin)}, {_num(ymax)}]"
        minima = "; ".join(f"({_num(x)}, {_num(y)}, {_num(f)})" for x, y, f in preset.minima)
        rows.append((preset.name, formula, domain, minima or "none"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
    return 0


def _num(value: float) -> str:
    """Short, exact-enough numbers for a table: 1, -4.5, 0.089842."""
    return f"{value:.6g}"
