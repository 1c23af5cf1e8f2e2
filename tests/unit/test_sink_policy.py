"""Backoff and the circuit breaker, driven with explicit times."""

from __future__ import annotations

import random

from marketpulse.sinks.policy import Backoff, CircuitBreaker


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    backoff = Backoff(base_s=0.1, max_s=1.0, rng=random.Random(7))  # noqa: S311 - jitter, not secrets
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_breaker_opens_at_the_threshold_and_lets_one_trial_through_after_the_cooldown() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown_s=5.0)
    for now in (0.0, 1.0):
        breaker.failure(now)
        assert breaker.allows(now)
    breaker.failure(2.0)
    assert breaker.is_open(2.0)
    assert breaker.is_open(6.9)
    assert breaker.retry_at() == 7.0
    assert breaker.allows(7.0)  # half-open: a trial
    breaker.failure(7.0)  # the trial failed: open again for a full cooldown
    assert breaker.is_open(11.9)
    assert breaker.allows(12.0)
    breaker.success()
    assert breaker.allows(12.0)
    assert breaker.failures == 0
    breaker.failure(13.0)
    assert breaker.allows(13.0)  # counting starts again after a success
