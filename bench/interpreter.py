"""How a benchmark starts Python in a child process (a worker, the API, a fresh engine).

Run from a checkout (``make bench`` runs every script there), ``python -m`` and ``python -c``
put the working directory first on the child's path, ahead of ``PYTHONPATH``: an A/B run that
hands one side another version's tree on ``PYTHONPATH`` would run this checkout's code on both
sides. ``-P`` leaves the working directory off; with no ``PYTHONPATH`` the child imports the
installed (editable) package, this checkout.
"""

from __future__ import annotations

import sys


def python(*args: str) -> list[str]:
    """The command line of a child Python with ``args``."""
    return [sys.executable, "-P", *args]
