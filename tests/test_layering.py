"""The Qt-free core (surface, engine, scene, export) never loads PyQt6, pyqtgraph or OpenGL."""

import subprocess
import sys

CORE = ["studio", "studio.cli", "studio.scene", "studio.surface", "studio.engine",
        "studio.export", "studio.errors", "studio.commands"]


def test_core_modules_do_not_load_qt() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import studio\n"
        f"for name in {CORE!r}:\n"
        "    mod = importlib.import_module(name)\n"
        "    if hasattr(mod, '__path__') and name != 'studio':\n"
        "        for info in pkgutil.walk_packages(mod.__path__, name + '.'):\n"
        "            importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'OpenGL'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"Qt-free core loaded: {out.stdout.strip()}"
