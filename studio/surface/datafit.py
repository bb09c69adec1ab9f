"""Data sets of the data-fit presets, and the checks for rows a user brings (a CSV file).

A data-fit surface is f(x, y) = mean (or sum) over rows i of ℓ(x, y; u_i, v_i)
(docs/algorithms.md#data-fit-surfaces): x and y are the model's two parameters, (u, v) one
training example. The shipped sets are small CSV files in assets/data; a scene may carry rows
of its own (`SurfaceSpec.data`), read from a CSV file by `parse_rows_csv`.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from studio.resources import asset_path
from studio.surface.errors import ExpressionError

Rows = tuple[tuple[float, float], ...]

MAX_CSV_ROWS = 500  # what a scene carries (studio.scene.MAX_DATA_ROWS)
MAX_CSV_BYTES = 1_000_000
VALIDATION_EVERY = 5  # row k validates when k % 5 == 4, as the network lab's split


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


def parse_rows_csv(text: str, name: str = "data") -> Rows:
    """The (u, v) rows of a user's CSV text, or `ExpressionError` naming the line.

    Accepted: an optional header `u,v` (any case), then lines of exactly two numbers; blank
    lines and lines starting with `#` are skipped. Every number must be finite and there
    must be 1 to MAX_CSV_ROWS rows.
    """
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if lines:
        first = [f.strip().lower() for f in next(csv.reader([lines[0][1]]))]
        if first == ["u", "v"]:
            lines = lines[1:]
        elif not _numbers(first):
            raise ExpressionError(
                f"{name}: line {lines[0][0]}: expected the header u,v or two numbers"
            )
    if not lines:
        raise ExpressionError(f"{name}: no data rows")
    if len(lines) > MAX_CSV_ROWS:
        raise ExpressionError(f"{name}: {len(lines)} rows, at most {MAX_CSV_ROWS}")
    rows: list[tuple[float, float]] = []
    for number, line in lines:
        fields = [f.strip() for f in next(csv.reader([line]))]
        if len(fields) != 2 or not _numbers(fields):
            raise ExpressionError(f"{name}: line {number} is not two numbers u,v")
        u, v = float(fields[0]), float(fields[1])
        if not (math.isfinite(u) and math.isfinite(v)):
            raise ExpressionError(f"{name}: line {number} is not finite")
        rows.append((u, v))
    return tuple(rows)


def _numbers(fields: list[str]) -> bool:
    try:
        for f in fields:
            float(f)
    except ValueError:
        return False
    return len(fields) == 2


def read_rows_file(path: str | os.PathLike[str]) -> Rows:
    """`parse_rows_csv` of a file, refusing one larger than MAX_CSV_BYTES before reading it."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_CSV_BYTES:
            raise ExpressionError(f"{p.name}: larger than {MAX_CSV_BYTES:,} bytes")
        with p.open("rb") as fh:
            raw = fh.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise ExpressionError(f"cannot read {p}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CSV_BYTES:
        raise ExpressionError(f"{p.name}: larger than {MAX_CSV_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExpressionError(f"{p.name}: not a text file (not UTF-8)") from None
    return parse_rows_csv(text, p.name)


def rows_to_csv(rows: Rows) -> str:
    """CSV text with the `u,v` header that `parse_rows_csv` reads back exactly (repr floats)."""
    return "u,v\n" + "".join(f"{u!r},{v!r}\n" for u, v in rows)


def validation_split(n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) row indices: row k validates when k % 5 == 4
    (docs/algorithms.md#early-stopping); used only when a run stops on validation loss."""
    k = np.arange(n_rows)
    held = k % VALIDATION_EVERY == VALIDATION_EVERY - 1
    return k[~held], k[held]
