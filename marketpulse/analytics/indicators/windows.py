"""Fixed windows with O(1) updates: a ring buffer and monotonic rolling extremes."""

from __future__ import annotations

import math
from typing import Any

from marketpulse.analytics.indicators.base import Stateful


class Ring(Stateful):
    """The last ``size`` values; ``push`` returns the value that fell out (or None)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: list[float] = []
        self.head = 0  # index of the oldest item once full

    def push(self, value: float) -> float | None:
        """Add ``value``; return the evicted oldest value when the ring was full."""
        items = self.items
        if len(items) < self.size:
            items.append(value)
            return None
        head = self.head
        old = items[head]
        items[head] = value
        head += 1
        self.head = 0 if head == self.size else head
        return old

    @property
    def full(self) -> bool:
        """Whether ``size`` values have been pushed."""
        return len(self.items) == self.size

    def ordered(self) -> list[float]:
        """The values, oldest first."""
        return self.items[self.head :] + self.items[: self.head]


class RollingExtreme(Stateful):
    """Highest (or lowest) of the last ``size`` values, amortised O(1) by a monotonic queue.

    The queue is one flat list, each index followed by its value, best first: as its state
    carries it, so that a restore takes the parsed list as it is: a deque of pairs would cost a
    block of about 600 bytes however few it holds and a tuple a pair, a fifth of a restored
    series' heap, and rebuilding it a tenth of the decode. The queue holds at most ``size``
    pairs, so taking the oldest off its front moves a few pointers."""

    def __init__(self, size: int, highest: bool) -> None:
        self.size = size
        self.highest = highest
        self.count = 0
        self.queue: list[int | float] = []  # index, value, index, value ...: best first
        self.following = 0.0  # for peek: what _following gives, once worked out after a push
        self.stale = True  # whether it is yet to be worked out

    def push(self, value: float) -> float:
        """Add ``value`` and return the extreme of the window that ends with it."""
        queue = self.queue
        index = self.count
        self.count = index + 1
        if self.highest:
            while queue and queue[-1] <= value:
                del queue[-2:]
        else:
            while queue and queue[-1] >= value:
                del queue[-2:]
        queue.append(index)
        queue.append(value)
        if queue[0] <= index - self.size:
            del queue[:2]
        self.stale = True
        return queue[1]

    def _following(self) -> float:
        """The best value that stays in the window when one more comes (the worst possible
        value if none does): what :meth:`peek` weighs against its value, worked out by the
        first peek after a push and kept, because a forming bar peeks many times between two
        pushes, on thousands of series whose queues are not in the CPU's cache; a push that no
        peek follows (a series whose bars close faster than its forming bars go out, a
        backfill) pays nothing for it. The queue runs oldest first too, and after a push its
        head is at most one step from leaving, so only the first two can be it."""
        queue = self.queue
        if queue:
            if queue[0] > self.count - self.size:
                return queue[1]
            if len(queue) > 2:
                return queue[3]
        return -math.inf if self.highest else math.inf

    def peek(self, value: float) -> float:
        """What :meth:`push` would return on ``value``, committing nothing: push drops every
        queued value that ``value`` beats or equals, so the better of the two."""
        if self.stale:
            self.following = self._following()
            self.stale = False
        following = self.following
        better = following > value if self.highest else following < value
        return following if better else value

    def state(self) -> list[Any]:
        """Return the state; the queue as it is kept (a pair each would be as many more lists
        to parse and to free at every decode)."""
        return [self.size, self.highest, self.count, self.queue[:]]

    def load(self, state: list[Any] | dict[str, Any]) -> None:
        """Restore a state returned by :meth:`state` (or the keyed form, its queue in pairs)."""
        if isinstance(state, dict):
            size, highest, count = state["size"], state["highest"], state["count"]
            queue = [x for item in state["queue"] for x in item]
        else:
            size, highest, count, queue = state[:4]
        self.size = size
        self.highest = highest
        self.count = count
        self.queue = queue  # as JSON gives them: each index an int, each value a float
        self.stale = True


class HighLow(Stateful):
    """Highest high and lowest low of the last ``size`` bars, once ``size`` bars have been seen."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.count = 0
        self.highest = RollingExtreme(size, highest=True)
        self.lowest = RollingExtreme(size, highest=False)

    def push(self, high: float, low: float) -> tuple[float, float] | None:
        """Add a bar; return (highest, lowest) of the full window, or None before it is full."""
        highest = self.highest.push(high)
        lowest = self.lowest.push(low)
        self.count += 1
        return None if self.count < self.size else (highest, lowest)

    def peek(self, high: float, low: float) -> tuple[float, float] | None:
        """What :meth:`push` would return on a bar, committing nothing."""
        if self.count + 1 < self.size:
            return None
        return (self.highest.peek(high), self.lowest.peek(low))


class RollingVariance(Stateful):
    """Population variance of the last ``size`` values, amortised O(1) per value.

    From running sums of the values shifted by an anchor near them: E[(x-K)^2] - E[x-K]^2
    cancels far fewer digits than E[x^2] - E[x]^2. Every ``size`` values the anchor moves to
    the window's oldest value and the sums are taken afresh, so that rounding cannot build up
    and a drifting price stays near its anchor: as exact as summing each window anew. A window
    of identical values has no variance at all.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.window = Ring(size)
        self.anchor: float | None = None
        self.total = 0.0
        self.square_total = 0.0
        self.count = 0
        self.run = 0  # how many values in a row equal the latest
        self.last: float | None = None

    def push(self, x: float) -> float | None:
        """Add ``x``; return the variance of the full window, None before it is full."""
        self.run = self.run + 1 if x == self.last else 1
        self.last = x
        anchor = self.anchor
        if anchor is None:
            anchor = self.anchor = x
        evicted = self.window.push(x)
        if evicted is not None:
            e = evicted - anchor
            self.total -= e
            self.square_total -= e * e
        d = x - anchor
        self.total += d
        self.square_total += d * d
        self.count += 1
        if self.count % self.size == 0:
            self._reanchor()
        if not self.window.full:
            return None
        if self.run >= self.size:
            return 0.0
        mean = self.total / self.size
        return self.square_total / self.size - mean * mean

    def _reanchor(self) -> None:
        values = self.window.ordered()
        anchor = self.anchor = values[0]
        total = square_total = 0.0
        for value in values:
            d = value - anchor
            total += d
            square_total += d * d
        self.total, self.square_total = total, square_total


class Previous(Stateful):
    """The value before the latest one: for bar-to-bar moves."""

    def __init__(self) -> None:
        self.value: float | None = None

    def swap(self, x: float) -> float | None:
        """Keep ``x``; return the value it replaces (None the first time)."""
        previous = self.value
        self.value = x
        return previous

    def move(self, x: float) -> float | None:
        """Keep ``x``; return its move from the value before (None the first time)."""
        previous = self.swap(x)
        return None if previous is None else x - previous
