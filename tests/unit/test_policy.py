"""Backoff, the circuit breaker and the token bucket, driven with explicit times."""

from __future__ import annotations

import random

import pytest

from marketpulse.policy import Backoff, CircuitBreaker, TokenBucket


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    backoff = Backoff(base_s=0.1, max_s=1.0, rng=random.Random(7))  # noqa: S311 - jitter, not secrets
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_backoff_stays_at_its_cap_however_long_the_outage() -> None:
    """A reconnect loop every 30 s for days: thousands of attempts, each still within the cap
    (2**attempts as a float overflows past about a thousand)."""
    backoff = Backoff(base_s=0.5, max_s=30.0, rng=random.Random(3))  # noqa: S311 - jitter, not secrets
    delays = [backoff.next_delay() for _ in range(20_000)]
    assert all(15.0 <= d <= 30.0 for d in delays[10:])
    assert backoff.attempts == 20_000


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


def test_token_bucket_spends_and_refills_at_its_rate() -> None:
    bucket = TokenBucket(capacity=5, period_s=60)
    assert [bucket.take(0.0) for _ in range(5)] == [0.0] * 5
    assert bucket.take(0.0) == pytest.approx(12.0)  # one token per 12 s
    assert bucket.left(6.0) == 0
    assert bucket.take(12.0) == 0.0
    assert bucket.left(1000.0) == 5  # never more than its capacity
