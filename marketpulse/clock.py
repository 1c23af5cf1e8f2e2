"""Time comes in through a clock object, so tests control it; nothing else reads the wall clock."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of the current time in integer nanoseconds since the epoch, UTC."""

    def now_ns(self) -> int:
        """Return the current time."""
        ...


class SystemClock:
    """The wall clock."""

    def now_ns(self) -> int:
        """Return the wall-clock time."""
        return time.time_ns()


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        """Return the time last set."""
        return self._now

    def advance(self, delta_ns: int) -> None:
        """Move forward by ``delta_ns``."""
        self._now += delta_ns
