"""Temporary lock of an account name after repeated failed sign-ins.

The address limit alone lets a password guesser spread attempts over many addresses, so
failures are also counted per target username (wrong passwords and wrong second-factor codes,
from any address): ``api_login_lock_failures`` of them within ``api_login_lock_window_s`` lock
the name for ``api_login_lock_s``. While locked every sign-in for it is answered 429
``ACCOUNT_LOCKED`` with ``Retry-After``, the right password included, without checking it; a
success clears the count. Names that belong to no account lock the same way, so the answer
says nothing about whether an account exists. A lock is chosen over a growing delay because a
delay holds a connection per attempt, which is what a guesser with many addresses has plenty of.

Redis holds the counts (``login_failures:{name}``, ``login_lock:{name}``); when it is down,
sign-ins go on without the lock (and say so in the log), as the rate limits do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_FAILED = """
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if failures >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def _failures_key(username: str) -> str:
    return f"login_failures:{username}"


def _lock_key(username: str) -> str:
    return f"login_lock:{username}"


@dataclass(frozen=True)
class Lockout:
    """The lock's settings and the Redis that keeps its counts."""

    redis: aioredis.Redis
    failures: int
    window_s: int
    lock_s: int

    async def locked_for(self, username: str) -> int:
        """Whole seconds until ``username`` may sign in again; 0 when it may now."""
        try:
            left_ms = int(await self.redis.pttl(_lock_key(username)))
        except (RedisError, OSError) as exc:
            log.warning("sign-in lock not checked, Redis failed: %s", exc)
            return 0
        return -(-left_ms // 1000) if left_ms > 0 else 0

    async def failed(self, username: str) -> bool:
        """Count one failure; True when it locked the name."""
        keys = [_failures_key(username), _lock_key(username)]
        args = [self.failures, self.window_s * 1000, self.lock_s * 1000]
        try:
            return bool(await self.redis.eval(_FAILED, len(keys), *keys, *args))
        except (RedisError, OSError) as exc:
            log.warning("sign-in failure not counted, Redis failed: %s", exc)
            return False

    async def succeeded(self, username: str) -> None:
        """Forget the name's failures."""
        try:
            await self.redis.delete(_failures_key(username))
        except (RedisError, OSError) as exc:
            log.warning("sign-in failures not cleared, Redis failed: %s", exc)
