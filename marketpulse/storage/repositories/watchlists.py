"""Each user's watch list: the symbols the dashboard keeps at hand, in the user's order."""

from __future__ import annotations

from uuid import UUID

import asyncpg


class WatchlistRepository:
    """The ``watchlists`` table: one row per user who has saved a list."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, user_id: UUID) -> list[str]:
        """The user's symbols; empty for a user who never saved a list."""
        symbols = await self.pool.fetchval(
            "SELECT symbols FROM watchlists WHERE user_id = $1", user_id
        )
        return list(symbols or [])

    async def put(self, user_id: UUID, symbols: list[str]) -> list[str]:
        """Replace the user's list with ``symbols`` (already checked and deduplicated)."""
        await self.pool.execute(
            """INSERT INTO watchlists (user_id, symbols) VALUES ($1, $2)
               ON CONFLICT (user_id) DO UPDATE SET symbols = $2, updated_at = now()""",
            user_id,
            symbols,
        )
        return symbols
