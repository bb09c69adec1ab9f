"""Keep glibc from returning NumPy's temporaries to the OS after every operation.

A step over 10,000 balls makes temporaries of 80–160 kB. glibc serves blocks above its mmap
threshold (128 kB at start) with mmap and trims the heap top above its trim threshold, so
every temporary can cost fresh page faults: measured here, `0.9*m + 0.1*g` on (10000, 2)
took 225 µs instead of 20 µs, and a whole simulation ran 4–5× slower. Raising the two
thresholds (to the ceiling glibc's own dynamic threshold would reach, 32 MB) keeps those
blocks in the heap for reuse, while arrays the size of a trajectory are still mmapped and
given back when freed. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 32 * 1024 * 1024
_done = False


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if it took effect."""
    global _done
    if _done:
        return True
    _done = True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, _THRESHOLD) == 1
    return mallopt(_M_TRIM_THRESHOLD, 2 * _THRESHOLD) == 1 and ok
