"""`studio presets`: list the preset surfaces (name, formula, domain, minima) to fit the terminal.

A terminal wide enough for the whole table gets it, one preset per line. A narrower one
(80 columns is the common case) gets the name in a column of its own and, beside it, the
formula, the domain and the minima as wrapped lines; below about 50 columns the name goes on
a line of its own above them. No line is ever wider than the terminal, as
`shutil.get_terminal_size` reports it (`COLUMNS` wins; 80 when there is no terminal;
at least 20).
"""

from __future__ import annotations

import argparse
import shutil
import textwrap

HEADER = ("NAME", "FORMULA", "DOMAIN", "MINIMA (x, y, f)")
GAP = "  "
# Below this many columns for the details, they go under the name instead of beside it.
MIN_DETAIL_WIDTH = 30


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the preset loss surfaces")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from studio.commands.common import standard_output

    width = shutil.get_terminal_size().columns
    with standard_output() as out:
        for line in preset_lines(width):
            print(line, file=out)
    return 0


def preset_rows() -> list[tuple[str, str, str, list[str]]]:
    """(name, formula, domain, minima) of every preset, as text."""
    from studio.surface import PRESETS  # sympy loads only when this command runs

    rows = []
    for preset in PRESETS.values():
        formula = preset.expression
        if preset.data_fit:
            formula = f"mean over {len(preset.data)} rows (u, v) of {formula}"
        if preset.params:
            formula += "  with " + ", ".join(f"{k}={_num(v)}" for k, v in preset.params.items())
        xmin, xmax, ymin, ymax = preset.domain
        domain = f"[{_num(xmin)}, {_num(xmax)}] x [{_num(ymin)}, {_num(ymax)}]"
        minima = [f"({_num(x)}, {_num(y)}, {_num(f)})" for x, y, f in preset.minima]
        rows.append((preset.name, formula, domain, minima))
    return rows


def preset_lines(width: int) -> list[str]:
    """The listing for a terminal `width` columns wide: no line is longer than `width`."""
    width = max(width, 20)
    rows = preset_rows()
    table = [HEADER, *((n, f, d, "; ".join(m) or "none") for n, f, d, m in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    if sum(widths) + len(GAP) * (len(widths) - 1) <= width:
        return [
            GAP.join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        ]

    name_width = widths[0]
    beside = width - name_width - len(GAP) >= MIN_DETAIL_WIDTH
    indent = " " * (name_width + len(GAP)) if beside else "    "
    detail_width = width - len(indent)
    lines: list[str] = []
    for name, formula, domain, minima in rows:
        details = [*_wrap(formula, detail_width), *_wrap(f"domain {domain}", detail_width)]
        # One minimum per line when they do not all fit on one, never one cut in two.
        joined = "minima " + ("; ".join(minima) or "none")
        if len(joined) <= detail_width:
            details.append(joined)
        else:
            for i, minimum in enumerate(minima):
                details.extend(
                    _wrap(("minima " if i == 0 else "       ") + minimum, detail_width, " " * 9)
                )
        if beside:
            lines.append(name.ljust(name_width) + GAP + details[0])
            lines.extend(indent + d for d in details[1:])
        else:
            lines.append(name)
            lines.extend(indent + d for d in details)
    return lines


def _wrap(text: str, width: int, hang: str = "    ") -> list[str]:
    """`text` in lines of at most `width`, continuation lines indented by `hang`; a formula
    breaks at its spaces (its operators), a word longer than a line is cut."""
    return textwrap.wrap(text, width, subsequent_indent=hang, break_on_hyphens=False) or [""]


def _num(value: float) -> str:
    """Short, exact-enough numbers for a table: 1, -4.5, 0.089842."""
    return f"{value:.6g}"
