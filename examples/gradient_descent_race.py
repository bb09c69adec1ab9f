"""The gradient-descent article's race: five optimizers on f = 0.1x² + 2y², lr 0.4, 20 steps.

SGD zig-zags across the steep y direction, momentum overshoots, the adaptive methods take
the valley floor; Adam starts from (-6, -6), the others from (-6, -3).

    python examples/gradient_descent_race.py [OUTPUT_FOLDER]
"""

import sys
from pathlib import Path

import studio

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
race = studio.make_scene(
    studio.make_surface("0.1*x^2 + 2*y^2", domain=(-7, 7, -7, 7)),
    studio.run("sgd", lr=0.4),
    studio.run("momentum", lr=0.4),
    studio.run("adagrad", lr=0.4),
    studio.run("rmsprop", lr=0.4),
    studio.run("adam", lr=0.4, start=(-6, -6)),
    start=(-6, -3),
    steps=20,
    title="Five optimizers on 0.1x² + 2y²",
)

result = studio.simulate(race)
for label, last in zip(result.labels, result.loss[-1], strict=True):
    print(f"{label:<24} loss after 20 steps: {last:.4g}")
result.to_csv(out / "race.csv")
studio.render(race, out / "race.gif", view="contour", size=(640, 360))
