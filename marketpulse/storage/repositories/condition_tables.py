"""Trade-condition tables as fetched from the vendors, with how their last refresh went."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import orjson
from pydantic import BaseModel, ConfigDict

from marketpulse.analytics.conditions import ConditionTable


class TableStatus(BaseModel):
    """One source's table: its version, when it was fetched, and the last refresh's error."""

    model_config = ConfigDict(frozen=True)

    source: str
    version: str | None  # None: never fetched (the table shipped in the package is used)
    fetched_at: datetime | None
    checked_at: datetime
    error: str | None


class ConditionTables:
    """``condition_tables``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def load(self, source: str) -> ConditionTable | None:
        """The last good table fetched for ``source``."""
        rules = await self.pool.fetchval(
            "SELECT rules FROM condition_tables WHERE source = $1", source
        )
        return None if rules is None else ConditionTable(source, orjson.loads(rules))

    async def fetched(self, source: str, table: ConditionTable) -> None:
        """Keep a table just fetched for ``source``."""
        await self.pool.execute(
            """INSERT INTO condition_tables (source, rules, version, fetched_at, checked_at)
               VALUES ($1, $2::jsonb, $3, now(), now())
               ON CONFLICT (source) DO UPDATE SET rules = EXCLUDED.rules,
                   version = EXCLUDED.version, fetched_at = now(), checked_at = now(),
                   error = NULL""",
            source,
            orjson.dumps(table.rules).decode(),
            table.version,
        )

    async def failed(self, source: str, error: str) -> None:
        """Note a refresh that failed; the table kept (if any) stays as it was."""
        await self.pool.execute(
            """INSERT INTO condition_tables (source, checked_at, error) VALUES ($1, now(), $2)
               ON CONFLICT (source) DO UPDATE SET checked_at = now(), error = EXCLUDED.error""",
            source,
            error[:1000],
        )

    async def statuses(self) -> list[TableStatus]:
        """Every source's table, by source."""
        rows = await self.pool.fetch(
            """SELECT source, version, fetched_at, checked_at, error FROM condition_tables
               ORDER BY source"""
        )
        return [TableStatus(**dict(row)) for row in rows]
