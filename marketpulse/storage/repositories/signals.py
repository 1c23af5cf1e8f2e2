"""Signals in PostgreSQL, for the API: upserted by their key, so redelivery changes nothing; a
signal withdrawn (a revised bar no longer fires it) is deleted."""

from __future__ import annotations

import asyncpg

from marketpulse.schemas.signals import Signal
from marketpulse.storage.bulk import copy_upsert

_COLUMNS = ("symbol", "granularity", "ts", "name", "kind", "direction", "strength", "details")
_KEY = ("symbol", "granularity", "ts", "name")
_STORED = (*_COLUMNS, "revision")


class SignalRepository:
    """The ``signals`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def upsert(self, signals: list[Signal]) -> int:
        """Store signals (COPY, then merge by key) and delete the withdrawn ones, the last
        record of each key deciding; return how many keys that was."""
        latest = {signal.key(): signal for signal in signals}
        rows = [
            (s.symbol, s.granularity, s.ts, s.name, s.kind, s.direction, s.strength, s.details,
             s.revision)
            for s in latest.values() if not s.withdrawn
        ]  # fmt: skip
        gone = [(s.symbol, s.granularity, s.ts, s.name) for s in latest.values() if s.withdrawn]
        async with self.pool.acquire() as connection, connection.transaction():
            await copy_upsert(connection, "signals", _STORED, _KEY, rows)
            if gone:
                await connection.executemany(
                    "DELETE FROM signals WHERE symbol = $1 AND granularity = $2 AND ts = $3 "
                    "AND name = $4",
                    gone,
                )
        return len(latest)

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
            f"""SELECT {", ".join(_STORED)} FROM signals
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
