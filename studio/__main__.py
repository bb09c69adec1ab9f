"""`python -m studio` is the `studio` command."""

import sys

from studio.cli import main

if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        # In the frozen bundle the formula compiler's helper process re-enters this entry
        # point (studio.surface.budget); freeze_support runs it there instead of the command
        # line. Imported only there: multiprocessing costs `studio render` start-up.
        import multiprocessing

        multiprocessing.freeze_support()
    raise SystemExit(main())
