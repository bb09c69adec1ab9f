"""The Qt-free core (surface, engine, scene, export) never loads PyQt6, pyqtgraph or OpenGL,
and the packages import each other in one direction only (see docs/architecture.md)."""

import ast
import subprocess
import sys
from pathlib import Path

import studio

CORE = [
    "studio",
    "studio.cli",
    "studio.scene",
    "studio.surface",
    "studio.engine",
    "studio.export",
    "studio.errors",
    "studio.commands",
    "studio.bench",
    "studio.gui.display",
]
STUDIO = Path(studio.__file__).parent


def test_core_modules_do_not_load_qt() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import studio\n"
        f"for name in {CORE!r}:\n"
        "    mod = importlib.import_module(name)\n"
        "    if hasattr(mod, '__path__') and name != 'studio':\n"
        "        for info in pkgutil.walk_packages(mod.__path__, name + '.'):\n"
        "            importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'OpenGL'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"Qt-free core loaded: {out.stdout.strip()}"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def importers_of(package: str, forbidden: str) -> list[str]:
    folder = STUDIO / package.removeprefix("studio.").replace(".", "/")
    return sorted(
        str(path.relative_to(STUDIO.parent))
        for path in folder.rglob("*.py")
        if any(m == forbidden or m.startswith(forbidden + ".") for m in imported_modules(path))
    )


def test_gui_never_imports_commands() -> None:
    """The command line sits above the GUI: gui -> commands would be a cycle."""
    assert importers_of("studio.gui", "studio.commands") == []


def test_core_never_imports_gui_or_commands() -> None:
    for core in ("studio.engine", "studio.surface", "studio.export"):
        for above in ("studio.gui", "studio.commands", "studio.bench"):
            assert importers_of(core, above) == [], f"{core} imports {above}"
