"""The sliding-window rate limiter against the real Redis, in this process: which keys a request
counts against, the tightest limit, refusal, the session entry read, and Redis being away."""

from __future__ import annotations

import pytest

from marketpulse.api.ratelimit import Decision, Limit, RateLimiter, limits_for
from marketpulse.storage.resp import PipelinedRedis
from tests.kafka_helpers import unique
from tests.workers import free_port

pytestmark = [pytest.mark.integration]


def test_a_request_counts_against_its_ip_its_user_and_its_endpoint_group() -> None:
    groups = {"auth": 5}
    assert limits_for("1.2.3.4", None, None, 100, 50, groups) == [
        Limit("ip", "rate_limit:ip:1.2.3.4", 100)
    ]
    assert limits_for("1.2.3.4", "u1", "auth", 100, 50, groups) == [
        Limit("ip", "rate_limit:ip:1.2.3.4", 100),
        Limit("user", "rate_limit:user:u1", 50),
        Limit("endpoint", "rate_limit:user:u1:auth", 5),
    ]
    # signed out, the group counts per address; a group without a limit adds nothing
    assert limits_for("1.2.3.4", None, "auth", 100, 50, groups)[-1] == Limit(
        "endpoint", "rate_limit:ip:1.2.3.4:auth", 5
    )
    assert len(limits_for("1.2.3.4", "u1", "other", 100, 50, groups)) == 2


async def test_requests_pass_until_the_tightest_limit_is_used_up(redis: PipelinedRedis) -> None:
    key = unique("rl")
    limiter = RateLimiter(redis, window_s=60)
    limits = [Limit("ip", f"{key}:ip", 10), Limit("endpoint", f"{key}:group", 3)]
    decisions = [await limiter.hit(limits) for _ in range(4)]
    assert all(d is not None for d in decisions)
    allowed = [d.allowed for d in decisions if d]
    assert allowed == [True, True, True, False]
    first, refused = decisions[0], decisions[3]
    assert first is not None
    assert refused is not None
    assert (first.scope, first.limit, first.remaining) == ("endpoint", 3, 2)
    assert (refused.scope, refused.limit, refused.remaining) == ("endpoint", 3, 0)
    assert 0 < refused.reset_ms <= 60_000
    # the refused request used up nothing: the address has spent three of its ten
    other = await limiter.hit([Limit("ip", f"{key}:ip", 10)])
    assert other is not None
    assert (other.allowed, other.remaining) == (True, 6)


async def test_two_limiters_share_the_window_and_members_do_not_collide(
    redis: PipelinedRedis,
) -> None:
    key = unique("rl")
    limits = [Limit("user", f"{key}:user", 4)]
    one, two = RateLimiter(redis, 60), RateLimiter(redis, 60)
    for limiter in (one, two, one, two):
        decision = await limiter.hit(limits)
        assert decision is not None
        assert decision.allowed
    last = await one.hit(limits)
    assert last is not None
    assert (last.allowed, last.scope) == (False, "user")


async def test_the_session_entry_is_read_in_the_same_call(redis: PipelinedRedis) -> None:
    key = unique("rl")
    await redis.run(
        "return redis.call('SET', KEYS[1], 'user-7|analyst,user', 'EX', 60)", [f"{key}:session"], []
    )
    limiter = RateLimiter(redis, 60)
    found = await limiter.hit([Limit("ip", f"{key}:ip", 5)], f"{key}:session")
    missing = await limiter.hit([Limit("ip", f"{key}:ip", 5)], f"{key}:gone")
    assert found is not None
    assert missing is not None
    assert (found.session, missing.session) == ("user-7|analyst,user", "")
    refused = await limiter.hit([Limit("ip", f"{key}:ip", 2)], f"{key}:session")
    assert refused is not None
    assert (refused.allowed, refused.session) == (False, "user-7|analyst,user")  # read anyway


async def test_with_redis_away_the_limiter_lets_requests_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    client = PipelinedRedis(f"redis://127.0.0.1:{port}/0", timeout_s=0.5)
    try:
        assert await RateLimiter(client, 60).hit([Limit("ip", "rate_limit:ip:x", 1)]) is None
    finally:
        await client.close()
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "marketpulse.api.ratelimit"]
    assert warning.startswith("rate limits not enforced, Redis failed: ")
    assert str(port) in warning  # the error itself, naming where Redis was looked for


@pytest.mark.parametrize(("reset_ms", "seconds"), [(0, "1"), (999, "1"), (1000, "1"), (1001, "2")])
def test_retry_after_rounds_up_to_whole_seconds(reset_ms: int, seconds: str) -> None:
    headers = dict(Decision(False, "ip", 5, 0, reset_ms).headers())
    assert headers["retry-after"] == headers["x-ratelimit-reset"] == seconds
    assert "retry-after" not in dict(Decision(True, "ip", 5, 4, reset_ms).headers())
