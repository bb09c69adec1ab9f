"""A learning-rate sweep: the same SGD run at eight rates from one start on Rosenbrock, to
see where it crawls, where it is fastest and where it blows up.

    python examples/learning_rate_sweep.py [OUTPUT_FOLDER]
"""

import sys
from pathlib import Path

import numpy as np

import studio

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
rates = np.geomspace(1e-4, 3e-3, 8)
sweep = studio.make_scene(
    "rosenbrock",
    *[studio.run("sgd", lr=float(lr), label=f"lr {lr:.1e}") for lr in rates],
    start=(-1.5, 2),
    steps=400,
    title="SGD learning-rate sweep",
)
result = studio.simulate(sweep)
final = result.loss[-1]
for label, status, loss in zip(result.labels, result.status, final, strict=True):
    print(f"{label:<12} {status:<10} final loss {loss:.4g}")
best = int(np.nanargmin(np.where(np.array(result.status) == "diverged", np.nan, final)))
print(f"best rate: {result.labels[best]}")
result.to_npz(out / "sweep.npz")
studio.render(sweep, out / "sweep.png", view="loss", size=(960, 540))
