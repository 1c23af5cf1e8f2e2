"""A partition's event time: how far its stream has got, and when each of its symbols next has a
bar to close.

Bars close on event time, not on the wall clock. A symbol that goes quiet still has its bars
closed once the partition's stream time (the largest event time accepted on it, driven by the
other symbols) passes their end plus the grace period. This is that timer: a heap of due times,
rebuilt from the stored symbol states whenever partitions are (re)assigned.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from marketpulse.analytics.ingest import SymbolState


@dataclass
class PartitionTime:
    """A partition's stream time and when each of its symbols next has a bar to close."""

    stream_time: int = 0
    due: list[tuple[int, bytes]] = field(default_factory=list)  # heap of (close at, key)
    scheduled: dict[bytes, int] = field(default_factory=dict)

    @classmethod
    def rebuild(
        cls, stored: Iterable[tuple[bytes, SymbolState]], grace_ns: int
    ) -> dict[int, PartitionTime]:
        """Each partition's time as its symbols' last written states imply, in one pass over
        them: a worker that takes partitions over decodes every symbol's state for this, so
        all the partitions it was given are rebuilt from one read."""
        found: dict[int, PartitionTime] = {}
        for key, state in stored:
            time = found.get(state.partition)
            if time is None:
                time = found[state.partition] = cls()
            time.stream_time = max(time.stream_time, state.stream_time)
            time.schedule(key, state.bars.next_close(grace_ns))
        return found

    def schedule(self, key: bytes, close_at: int | None) -> None:
        """Set when ``key`` next has a bar to close (None: nothing open)."""
        if close_at is None:
            self.scheduled.pop(key, None)
            return
        if self.scheduled.get(key) != close_at:
            self.scheduled[key] = close_at
            heapq.heappush(self.due, (close_at, key))

    def pop_due(self) -> list[bytes]:
        """Keys whose next close has been reached (stale heap entries are dropped)."""
        keys = []
        while self.due and self.due[0][0] <= self.stream_time:
            close_at, key = heapq.heappop(self.due)
            if self.scheduled.get(key) == close_at:
                del self.scheduled[key]
                keys.append(key)
        return keys
