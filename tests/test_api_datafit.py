"""The Python API's data-fit options and the CSV's optimizer/label columns."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import studio


def test_sum_reduction_own_rows_and_csv_columns(tmp_path: Path) -> None:
    rows = [(0.5, 0.2), (2.5, 0.9), (1.0, 0.4)]
    spec = studio.make_surface("sigmoid_neuron", reduction="sum", data=np.array(rows))
    assert spec.reduction == "sum" and spec.data == tuple(rows)
    scene = studio.make_scene(
        spec,
        studio.run("sgd", lr=1.0, batch_size=1, batch_order="in_order", label="in order"),
        start=(-2, -2),
        steps=6,
    )
    result = studio.simulate(scene)
    assert result.surface.n_rows == 3
    assert result.surface.expression.startswith("sum over 3 rows")
    result.to_csv(tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert {r["optimizer"] for r in table} == {"sgd"}
    assert {r["label"] for r in table} == {"in order"}
    assert len(table) == 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reduction": "sum"}, "data-fit surfaces only"),
        ({"data": [(1, "x")]}, "pairs of numbers"),
        ({"data": [(1, float("nan"))]}, "finite"),
    ],
)
def test_bad_data_fit_options(kwargs: dict, message: str) -> None:
    text = "rosenbrock" if "reduction" in kwargs else "line_fit"
    with pytest.raises(studio.StudioError, match=message):
        studio.make_surface(text, **kwargs)
