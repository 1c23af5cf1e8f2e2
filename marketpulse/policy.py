"""How callers of unreliable things behave: exponential backoff, a circuit breaker, a token
bucket. Sinks use them in front of the stores, vendor clients in front of the vendors.

All are pure and take the time from the caller, so tests drive them without waiting.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

_MAX_DOUBLINGS = 64  # 2**64 times any base of a nanosecond or more is past any sensible cap


@dataclass
class Backoff:
    """Delays that double from ``base_s`` up to ``max_s``, with full jitter below the cap."""

    base_s: float
    max_s: float
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (and count this one). The exponent stops growing:
        2**attempts as a float overflows after about a thousand attempts, some hours into an
        outage."""
        ceiling = min(self.max_s, self.base_s * 2.0 ** min(self.attempts, _MAX_DOUBLINGS))
        self.attempts += 1
        return float(ceiling / 2 + self.rng.uniform(0, ceiling / 2))

    def reset(self) -> None:
        """Start again from ``base_s`` after a success."""
        self.attempts = 0


@dataclass
class CircuitBreaker:
    """Opens after ``threshold`` failures in a row; after ``cooldown_s`` one trial is let through
    (half-open): its success closes the circuit, its failure opens it again."""

    threshold: int
    cooldown_s: float
    failures: int = 0
    opened_at: float | None = None

    def allows(self, now: float) -> bool:
        """Whether a call may go to the store now."""
        return self.opened_at is None or now - self.opened_at >= self.cooldown_s

    def is_open(self, now: float) -> bool:
        """Whether calls are being refused now."""
        return not self.allows(now)

    def retry_at(self) -> float:
        """When an open circuit lets the next trial through."""
        return 0.0 if self.opened_at is None else self.opened_at + self.cooldown_s

    def success(self) -> None:
        """Close the circuit."""
        self.failures, self.opened_at = 0, None

    def failure(self, now: float) -> None:
        """Count a failure; open (or re-open, after a failed trial) at the threshold."""
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = now


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled at ``capacity`` per ``period_s``: a request quota such as
    5 a minute or 25 a day, spent as requests go out."""

    capacity: int
    period_s: float
    tokens: float = -1.0
    updated: float = 0.0

    def _refill(self, now: float) -> None:
        if self.tokens < 0:
            self.tokens, self.updated = float(self.capacity), now
        rate = self.capacity / self.period_s
        self.tokens = min(float(self.capacity), self.tokens + (now - self.updated) * rate)
        self.updated = now

    def take(self, now: float) -> float:
        """Spend a token if there is one and return 0; otherwise return how long until there is."""
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) * self.period_s / self.capacity

    def left(self, now: float) -> int:
        """Whole tokens available now."""
        self._refill(now)
        return int(self.tokens)
