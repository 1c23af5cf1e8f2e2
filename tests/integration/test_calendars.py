"""Calendars by exchange: each symbol of the symbols table on its exchange's calendar, read from
the real PostgreSQL; patterns decide first."""

from __future__ import annotations

import asyncpg
import pytest

from marketpulse.settings import Settings
from marketpulse.storage.repositories.symbols import SymbolInfo, SymbolRepository
from tests.kafka_helpers import unique

pytestmark = [pytest.mark.integration]


async def test_symbols_take_their_exchange_s_calendar_unless_a_pattern_decides(
    services: Settings, pool: asyncpg.Pool
) -> None:
    listed, other, elsewhere = (unique("Q").replace("-", "")[:12].upper() for _ in range(3))
    await SymbolRepository(pool).upsert([
        SymbolInfo(symbol=listed, name="Listed", exchange="NASDAQ"),
        SymbolInfo(symbol=other, name="Other", exchange="NYSE"),
        SymbolInfo(symbol=elsewhere, name="Elsewhere", exchange="OTC"),
    ])  # fmt: skip
    settings = services.model_copy(
        update={
            "granularities": ["1h"],
            "exchange_calendars": {"NASDAQ": "NASDAQ", "NYSE": "NYSE", "OTC": "utc"},
            "calendars": {other: "XLON"},  # a pattern decides before the exchange
        }
    )
    cuts = settings.bar_cuts()
    assert [
        None if (table := cuts.table_of(symbol)) is None else table.calendar
        for symbol in (listed, other, elsewhere, "NOT.LISTED")
    ] == ["NASDAQ", "XLON", None, None]
    assert cuts.of(listed)["1h"].session_table is not None
