"""Data sets shipped for the data-fit presets, read from small CSV files in assets/data.

A data-fit surface is f(x, y) = mean over rows i of ℓ(x, y; u_i, v_i)
(docs/algorithms.md#data-fit-surfaces): x and y are the model's two parameters, (u, v) one
training example.
"""

from __future__ import annotations

import csv
import math

from studio.resources import asset_path
from studio.surface.errors import ExpressionError

Rows = tuple[tuple[float, float], ...]


def read_rows(relative: str) -> Rows:
    """(u, v) rows of `assets/<relative>`: a `u,v` header, `#` comment lines allowed."""
    path = asset_path(relative)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            lines = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    except OSError as exc:
        raise ExpressionError(f"cannot read data {relative}: {exc.strerror or exc}") from None
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != ["u", "v"]:
        raise ExpressionError(f"data {relative} must start with the header 'u,v'")
    rows: list[tuple[float, float]] = []
    for number, record in enumerate(reader, start=2):
        try:
            u, v = (float(field) for field in record)
        except ValueError:
            raise ExpressionError(f"data {relative}: row {number} is not two numbers") from None
        if not (math.isfinite(u) and math.isfinite(v)):
            raise ExpressionError(f"data {relative}: row {number} is not finite")
        rows.append((u, v))
    return tuple(rows)
