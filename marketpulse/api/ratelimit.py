"""Sliding-window rate limits in Redis: per client IP, per user and per endpoint group.

Each limit is a sorted set of request times (``rate_limit:{scope}:{id}[:{group}]``, the key
family of docs/architecture.md). One Lua script checks every limit that applies to a request
and, only if all allow it, records the request in each: the check is atomic, so
concurrent requests cannot overshoot, and a refused request does not use up the window. Times
come from the Redis server's clock, so several API processes agree. The same call also says
the caller's session entry (its user and roles), so a signed-in request costs one round trip
for both.

When Redis is unreachable the limiter lets requests through (and logs it): a cache outage must
not take the API down.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from dataclasses import dataclass
from typing import Any, cast

from redis.exceptions import RedisError

from marketpulse.storage.resp import PipelinedRedis

log = logging.getLogger(__name__)

_SLIDING_WINDOW = """
local session = ''
if ARGV[3] ~= '' then session = redis.call('GET', ARGV[3]) or '' end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local function until_free(key)
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] then return tonumber(oldest[2]) + window - now end
  return window
end
local tightest, remaining = 0, -1
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 + i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    return {0, i, limit, 0, until_free(key), session}
  end
  if remaining < 0 or limit - count - 1 < remaining then
    tightest, remaining = i, limit - count - 1
  end
end
local reset = until_free(KEYS[tightest])
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, window)
end
return {1, tightest, tonumber(ARGV[3 + tightest]), remaining, reset, session}
"""


@dataclass(frozen=True)
class Limit:
    """One limit that applies to a request: a key and how many requests it allows."""

    scope: str  # ip, user or endpoint
    key: str
    limit: int


@dataclass(frozen=True)
class Decision:
    """The outcome for the tightest limit involved."""

    allowed: bool
    scope: str
    limit: int
    remaining: int
    reset_ms: int
    session: str = ""  # the session entry, empty when Redis has none

    def headers(self) -> list[tuple[str, str]]:
        """``X-RateLimit-*``, and ``Retry-After`` when refused."""
        reset_s = str(max(1, -(-self.reset_ms // 1000)))
        out = [
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", reset_s),
            ("x-ratelimit-scope", self.scope),
        ]
        if not self.allowed:
            out.append(("retry-after", reset_s))
        return out


class RateLimiter:
    """Checks and records requests against their limits."""

    def __init__(self, client: PipelinedRedis, window_s: int) -> None:
        self.window_ms = window_s * 1000
        self._client = client
        # Each request is one member of the windows' sorted sets: unique across processes by
        # the random prefix, and within one by the counter (cheaper than random bytes each).
        self._prefix = secrets.token_hex(8)
        self._requests = itertools.count()

    async def hit(self, limits: list[Limit], session_key: str = "") -> Decision | None:
        """Count one request against every limit, unless one of them is used up, and read
        ``session_key``. None when Redis cannot be asked."""
        keys = [limit.key for limit in limits]
        member = f"{self._prefix}{next(self._requests)}"
        args: list[int | str] = [self.window_ms, member, session_key]
        args += [x.limit for x in limits]
        try:
            answer = await self._client.run(_SLIDING_WINDOW, keys, args)
            allowed, index, limit, remaining, reset, session = cast(list[Any], answer)
        except (RedisError, OSError) as exc:
            log.warning("rate limits not enforced, Redis failed: %s", exc)
            return None
        scope = limits[int(index) - 1].scope if index else limits[0].scope
        entry = session.decode() if isinstance(session, bytes) else str(session)
        return Decision(bool(allowed), scope, int(limit), int(remaining), int(reset), entry)


def limits_for(
    ip: str,
    user_id: str | None,
    group: str | None,
    ip_limit: int,
    user_limit: int,
    group_limits: dict[str, int],
) -> list[Limit]:
    """The limits of one request: its IP, its user if signed in, its endpoint group if limited."""
    out = [Limit("ip", f"rate_limit:ip:{ip}", ip_limit)]
    if user_id is not None:
        out.append(Limit("user", f"rate_limit:user:{user_id}", user_limit))
    if group is not None and group in group_limits:
        client = f"user:{user_id}" if user_id is not None else f"ip:{ip}"
        out.append(Limit("endpoint", f"rate_limit:{client}:{group}", group_limits[group]))
    return out
