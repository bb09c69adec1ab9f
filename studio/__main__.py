"""`python -m studio` is the `studio` command."""

import multiprocessing

from studio.cli import main

if __name__ == "__main__":
    # In the frozen bundle the formula compiler's helper process re-enters this entry point
    # (studio.surface.budget); freeze_support runs it there instead of the command line.
    multiprocessing.freeze_support()
    raise SystemExit(main())
