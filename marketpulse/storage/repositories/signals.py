"""Signals in PostgreSQL, for the API: upserted by their key, so redelivery changes nothing."""

from __future__ import annotations

import asyncpg

from marketpulse.schemas.signals import Signal
from marketpulse.storage.bulk import copy_upsert

_COLUMNS = ("symbol", "granularity", "ts", "name", "kind", "direction", "strength", "details")
_KEY = ("symbol", "granularity", "ts", "name")


class SignalRepository:
    """The ``signals`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def upsert(self, signals: list[Signal]) -> int:
        """Store signals (COPY, then merge by key); return how many rows that was."""
        rows = [
            (s.symbol, s.granularity, s.ts, s.name, s.kind, s.direction, s.strength, s.details)
            for s in signals
        ]  # fmt: skip
        async with self.pool.acquire() as connection:
            return await copy_upsert(connection, "signals", _COLUMNS, _KEY, rows)

    async def query(
        self,
        symbol: str,
        granularity: str | None = None,
        start: int | None = None,
        end: int | None = None,
        kind: str | None = None,
        limit: int = 100,
        name: str | None = None,
        direction: str | None = None,
    ) -> list[Signal]:
        """A symbol's signals, newest first, within ``[start, end)`` bar starts (ns)."""
        rows = await self.pool.fetch(
            f"""SELECT {", ".join(_COLUMNS)} FROM signals
                WHERE symbol = $1
                  AND ($2::text IS NULL OR granularity = $2)
                  AND ($3::bigint IS NULL OR ts >= $3)
                  AND ($4::bigint IS NULL OR ts < $4)
                  AND ($5::text IS NULL OR kind = $5)
                  AND ($7::text IS NULL OR name = $7)
                  AND ($8::text IS NULL OR direction = $8)
                ORDER BY ts DESC, name LIMIT $6""",
            symbol,
            granularity,
            start,
            end,
            kind,
            limit,
            name,
            direction,
        )
        return [Signal.model_validate(dict(row)) for row in rows]
