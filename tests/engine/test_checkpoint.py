"""The step loop's checkpoint: called before every step; what it raises abandons the
simulation, and a RunCache interrupted that way still gives the exact trajectory after."""

from __future__ import annotations

import numpy as np
import pytest

from studio.engine import RunCache, simulate
from studio.scene import RunSpec
from studio.surface import preset_surface

RUNS = [
    RunSpec("adam", {"lr": 0.05}, ((-1.5, 2.0),)),
    RunSpec("sgd", {"lr": 0.001, "grad_noise": 0.3}, ((1.0, -0.5),)),
]


class Stop(Exception):
    pass


def test_the_checkpoint_runs_before_every_step() -> None:
    calls = []
    simulate(preset_surface("rosenbrock"), RUNS, 40, 0, checkpoint=lambda: calls.append(1))
    assert len(calls) == 41  # steps 0..40: each position is recorded after one


def test_a_raising_checkpoint_abandons_the_simulation_and_the_cache_stays_exact() -> None:
    surface = preset_surface("rosenbrock")
    cache = RunCache()
    calls = []

    def stop_at_ten() -> None:
        calls.append(1)
        if len(calls) == 10:
            raise Stop

    with pytest.raises(Stop):
        cache.simulate(surface, RUNS, 200, 3, checkpoint=stop_at_ten)
    assert len(calls) == 10  # no step after it

    again = cache.simulate(surface, RUNS, 200, 3)
    plain = simulate(surface, RUNS, 200, 3)
    np.testing.assert_array_equal(again.positions, plain.positions)
    np.testing.assert_array_equal(again.loss, plain.loss)
