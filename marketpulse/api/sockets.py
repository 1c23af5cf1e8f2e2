"""The open WebSocket connections of one API process: how many each user and each address may
hold, and the re-check that closes those whose session has ended.

A socket is authenticated once, when it opens (and again on an ``auth`` command); after that it
would stream for as long as its access token lasts. Logout, a role change and the session's own
expiry all end the session on the server, so every ``ws_session_check_s`` the sessions of all
open sockets are read back in one Redis round trip, and a socket whose session has ended (or
whose user's roles no longer allow the feed) is closed with 1008. Where Redis has no entry,
PostgreSQL decides, as for a request. The caps are per process: with several API workers, a
user may hold the cap in each.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from marketpulse.api import security
from marketpulse.api.deps import Stores, session_key, session_roles
from marketpulse.api.security import Claims

log = logging.getLogger(__name__)

POLICY_CLOSE_CODE = 1008  # RFC 6455: the message (here, the connection) breaks a policy
FEED_ACTION = "market_data:read"


@dataclass(eq=False)
class Socket:
    """One open connection: where from, whose, and how to close it."""

    address: str
    claims: Claims
    close: Callable[[int, str], Awaitable[None]]


class Sockets:
    """The process's open sockets, counted per user and per address."""

    def __init__(self, per_user: int, per_address: int) -> None:
        self.per_user = per_user
        self.per_address = per_address
        self._open: set[Socket] = set()
        self._users: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, socket: Socket) -> str | None:
        """Count ``socket`` in, or say why it may not open."""
        user = socket.claims.subject
        if self._users[user] >= self.per_user:
            return f"at most {self.per_user} open connections per user"
        if self._addresses[socket.address] >= self.per_address:
            return f"at most {self.per_address} open connections per address"
        self._open.add(socket)
        self._users[user] += 1
        self._addresses[socket.address] += 1
        return None

    def remove(self, socket: Socket) -> None:
        """Count a closed socket out (once, whatever closed it)."""
        if socket not in self._open:
            return
        self._open.discard(socket)
        for counter, key in (
            (self._users, socket.claims.subject),
            (self._addresses, socket.address),
        ):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]

    async def recheck(self, stores: Stores) -> int:
        """Close every socket whose session has ended or no longer allows the feed; how many."""
        sockets = list(self._open)
        if not sockets:
            return 0
        try:
            entries = await stores.redis.mget([session_key(s.claims.session) for s in sockets])
        except (RedisError, OSError) as exc:
            log.warning("WebSocket sessions not re-checked, Redis failed: %s", exc)
            return 0
        closed = 0
        for socket, entry in zip(sockets, entries, strict=True):
            text = entry.decode() if isinstance(entry, bytes) else ""
            roles = await session_roles(stores, socket.claims, text)
            if roles is None or not security.allowed(roles, FEED_ACTION):
                self.remove(socket)
                await socket.close(POLICY_CLOSE_CODE, "the session has ended; sign in again")
                closed += 1
        return closed


async def watch(stores: Stores, sockets: Sockets, every_s: float) -> None:
    """Re-check the open sockets' sessions every ``every_s`` until cancelled."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await sockets.recheck(stores)
        except Exception:  # a PostgreSQL outage must not end the watch
            log.exception("WebSocket sessions not re-checked")
