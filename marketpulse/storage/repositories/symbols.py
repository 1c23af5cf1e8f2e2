"""Reference data for symbols: a bundled seed list, bulk loads, and full-text search."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import asyncpg
from pydantic import BaseModel, ConfigDict

from marketpulse.storage.bulk import copy_upsert

SEED = Path(__file__).resolve().parent.parent / "data" / "symbols.csv"
_COLUMNS = ("symbol", "name", "exchange", "sector", "industry", "market_cap", "is_active")
_WORD = re.compile(r"[A-Za-z0-9]+")


class SymbolInfo(BaseModel):
    """One row of ``symbols``."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    name: str
    exchange: str | None = None
    sector: str | None = None
    industry: str | None = None
    market_cap: int | None = None
    is_active: bool = True


def read_seed(path: Path = SEED) -> list[SymbolInfo]:
    """The bundled list: symbol, name, exchange, sector, industry."""
    with path.open(newline="") as handle:
        return [
            SymbolInfo.model_validate({k: v or None for k, v in row.items()})
            for row in csv.DictReader(handle)
        ]


class SymbolRepository:
    """The ``symbols`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def upsert(self, symbols: list[SymbolInfo]) -> int:
        """Insert or update many symbols with one COPY; return how many."""
        rows = [tuple(getattr(s, c) for c in _COLUMNS) for s in symbols]
        async with self.pool.acquire() as connection:
            return await copy_upsert(connection, "symbols", _COLUMNS, ("symbol",), rows)

    async def seed(self, path: Path = SEED) -> int:
        """Load the bundled list (idempotent)."""
        return await self.upsert(read_seed(path))

    async def exchanges(self) -> dict[str, str]:
        """Each symbol's exchange, for the symbols that have one."""
        rows = await self.pool.fetch(
            "SELECT symbol, exchange FROM symbols WHERE exchange IS NOT NULL"
        )
        return {row["symbol"]: row["exchange"] for row in rows}

    async def get(self, symbol: str) -> SymbolInfo | None:
        """One symbol, or None."""
        row = await self.pool.fetchrow(
            f"SELECT {', '.join(_COLUMNS)} FROM symbols WHERE symbol = $1", symbol.upper()
        )
        return None if row is None else SymbolInfo.model_validate(dict(row))

    async def listing(
        self,
        sector: str | None = None,
        exchange: str | None = None,
        active_only: bool = True,
        limit: int = 100,
        offset: int = 0,
    ) -> list[SymbolInfo]:
        """Symbols in order, filtered by sector and exchange."""
        rows = await self.pool.fetch(
            f"""SELECT {", ".join(_COLUMNS)} FROM symbols
                WHERE ($1::text IS NULL OR sector = $1)
                  AND ($2::text IS NULL OR exchange = $2)
                  AND (NOT $3 OR is_active)
                ORDER BY symbol LIMIT $4 OFFSET $5""",
            sector,
            exchange,
            active_only,
            limit,
            offset,
        )
        return [SymbolInfo.model_validate(dict(row)) for row in rows]

    async def search(self, text: str, limit: int = 20) -> list[SymbolInfo]:
        """Type-ahead search: every word is a prefix (``app inc`` finds Apple Inc.).

        An exact ticker comes first, then tickers starting with the text, then by text rank.
        """
        words = _WORD.findall(text)
        if not words:
            return []
        query = " & ".join(f"{word.lower()}:*" for word in words)
        rows = await self.pool.fetch(
            f"""SELECT {", ".join(_COLUMNS)} FROM symbols
                WHERE search @@ to_tsquery('simple', $1)
                ORDER BY symbol = upper($2) DESC, starts_with(symbol, upper($2)) DESC,
                         ts_rank(search, to_tsquery('simple', $1)) DESC, symbol
                LIMIT $3""",
            query,
            text.strip(),
            limit,
        )
        return [SymbolInfo.model_validate(dict(row)) for row in rows]
