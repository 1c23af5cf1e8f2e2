"""``make chaos``: run the scenario at full length, print every invariant; exit 1 if one fails."""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import tempfile
from pathlib import Path

from marketpulse.services import stack
from marketpulse.settings import Settings
from tests.chaos.scenario import chaos, print_checks


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--pace", type=float, default=1.0, help="scales every hold")
    parser.add_argument("--rate", type=int, default=2000, help="synthetic events per second")
    args = parser.parse_args()
    settings = Settings()
    stack.up(settings)
    with tempfile.TemporaryDirectory(prefix="marketpulse-chaos-") as root:
        report = functools.partial(print, flush=True)
        checks = asyncio.run(chaos(settings, Path(root), args.pace, args.rate, report))
        print_checks(checks, report)
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
