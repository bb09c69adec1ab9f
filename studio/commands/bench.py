"""`studio bench [--quick] [--only SECTION]`: how fast the studio is, beside a baseline.

What each baseline is: docs/architecture.md#benchmarks.

The sections live in `studio.bench`; this module is the command line around them.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from studio.bench import SECTIONS

    p = sub.add_parser(
        "bench",
        help="measure the engine, export and window against baselines",
        description="Benchmarks printed as tables: our figure, a baseline "
        "measured on this machine in the same run (a per-ball "
        "Python loop, or matplotlib), and the ratio.",
    )
    p.add_argument("--quick", action="store_true", help="fewer repeats (a rough figure)")
    p.add_argument(
        "--only", choices=[s.name for s in SECTIONS], default=None, help="run one section"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from studio.bench import SECTIONS, run_sections

    run_sections([s for s in SECTIONS if args.only is None or s.name == args.only], args.quick)
    return 0
