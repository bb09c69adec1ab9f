"""A clip for a slide: the studio's default race as a 1280x720 MP4, 3D beside the loss plots.

python examples/slide_clip.py [OUTPUT_FOLDER]
"""

import sys
from pathlib import Path

import studio
from studio.resources import asset_path

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
race = studio.load(asset_path("scenes/default.json"))
clip = studio.render(race, out / "slide.mp4", view="3d+loss", size=(1280, 720), duration=4)
print(f"wrote {clip.path}")
