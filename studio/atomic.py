"""Files that appear whole or not at all: written beside the target, renamed on success.

A full disk, a killed process or a failed encoder leaves the target as it was (absent, or its
previous content), never a partial file. Used for trace outputs and screenshots; exports have
their own temporary files with a pid-tagged prefix (studio.export.base), cleaned after a kill.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from studio.errors import StudioError


def write_atomically(
    path: Path, write: Callable[[IO[bytes]], None], error: type[StudioError] = StudioError
) -> None:
    """Write through `write` into a temporary file beside `path`, then rename it onto `path`;
    `error` (one line, the OS's reason) when that fails."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise error(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give a normal file's mode
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise error(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
