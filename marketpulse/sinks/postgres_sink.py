"""Signals into PostgreSQL, for the API: upserts by key, retried until the server is back."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from marketpulse.schemas.signals import Signal
from marketpulse.settings import Settings
from marketpulse.sinks.base import Sink
from marketpulse.storage.postgres import POSTGRES_ERRORS, create_pool, store_error
from marketpulse.storage.repositories.signals import SignalRepository
from marketpulse.streams.topics import SIGNALS


class SignalTableSink(Sink[Signal]):
    """``analytics.signals`` -> the ``signals`` table."""

    name = "signals_pg"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None

    def topics(self) -> list[str]:
        return [self.settings.topic(SIGNALS.name)]

    def decode(self, topic: str, value: bytes) -> Sequence[Signal]:
        return [Signal.model_validate_json(value)]

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def write(self, items: list[Signal]) -> int:
        try:
            if self._pool is None:  # made on first use, so a server that is down at start waits
                self._pool = await create_pool(self.settings, max_size=2)
            return await SignalRepository(self._pool).upsert(items)
        except POSTGRES_ERRORS as exc:
            if isinstance(exc, asyncpg.InternalClientError) and self._pool is not None:
                # a connection's protocol state is lost: start over with fresh connections
                self._pool.terminate()
                self._pool = None
            raise store_error(exc) from exc
