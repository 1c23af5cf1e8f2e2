"""Bar granularities: ``30s``, ``1m``, ``5m``, ``1h``, ``1d`` as nanoseconds, UTC-aligned."""

from __future__ import annotations

import re

_UNITS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}
_PATTERN = re.compile(r"^([1-9][0-9]*)([smhd])$")


def parse_granularity(text: str) -> int:
    """Return the length of a granularity in ns; raise ValueError for anything else."""
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"bad granularity {text!r}: use a number and s, m, h or d, e.g. 5m")
    length = int(match.group(1)) * _UNITS[match.group(2)]
    if _UNITS["d"] % length and length % _UNITS["d"]:
        raise ValueError(f"granularity {text!r} does not divide a day, so bars would drift")
    return length


def bar_start(ts: int, length: int) -> int:
    """The start of the UTC-aligned bar of ``length`` ns that holds ``ts``."""
    return ts - ts % length
