"""The worker's warm-up from InfluxDB: each cold symbol's series warmed from the bars stored before
its first frame, every symbol through one client, closed with the worker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.step_io import key_of_series
from marketpulse.analytics.warmup import warmup_bars
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Frame, Trade
from marketpulse.settings import Settings
from marketpulse.storage import measurements
from marketpulse.storage.influx import InfluxClient
from marketpulse.streams.warmup import WarmUp
from marketpulse.tables.journal import Journal
from marketpulse.tables.live_states import LiveStates
from tests.kafka_helpers import unique
from tests.table_helpers import Table

M = 60_000_000_000
LIVE = 1_780_000_000 * 1_000_000_000 // M * M  # the first live bar's start


@pytest.fixture
async def stored(services: Settings) -> AsyncIterator[Settings]:
    """A scratch database holding, for two symbols, the default set's lookback of 1m bars
    before ``LIVE``."""
    own = services.model_copy(update={
        "influx_database": unique("warm").replace("-", "_"), "granularities": ["1m"],
        "warmup_from": ["influxdb"],
    })  # fmt: skip
    count = warmup_bars(own.step_config().indicators, own.warmup_unstable_bars)
    bars = [
        Bar(symbol=symbol, granularity="1m", start=LIVE - (count - i) * M,
            end=LIVE - (count - i - 1) * M, open=100.0 + i % 7, high=102.0 + i % 7,
            low=99.0 + i % 7, close=101.0 + i % 5, volume=10.0 + i)
        for symbol in ("WA", "WB") for i in range(count)
    ]  # fmt: skip
    async with InfluxClient(own) as influx:
        await influx.ensure_database()
        await influx.write([measurements.bar_point(b) for b in bars],
                           measurements.bar_retention("1m"))  # fmt: skip
    yield own
    async with InfluxClient(own) as influx:
        await influx.query(f'DROP DATABASE "{own.influx_database}"')


def _frame(symbol: str) -> bytes:
    trade = Trade(symbol=symbol, ts=LIVE + 1, price=101.0, size=1.0)
    return Frame(source="test", received_ts=LIVE + 2, events=[trade]).model_dump_json().encode()


async def test_every_cold_symbol_is_warmed_through_one_client_closed_at_the_end(
    stored: Settings,
) -> None:
    settings, config = stored, stored.step_config()
    states: LiveStates[SeriesState] = LiveStates(
        Table(),
        lambda data: SeriesState.from_bytes(config.detector, data),
        SeriesState.to_bytes,
        lambda *_: None,
    )
    warm_up = WarmUp(settings, config, states, Journal(states))
    count = warmup_bars(config.indicators, settings.warmup_unstable_bars)
    await warm_up.frame(b"WA", _frame("WA"), 0)
    client = warm_up._influx
    await warm_up.frame(b"WB", _frame("WB"), 0)
    assert client is not None
    assert warm_up._influx is client  # the second symbol's query went through the first's
    for symbol in ("WA", "WB"):
        warmed = states.get(key_of_series(symbol, "1m"))
        assert warmed is not None
        assert warmed.indicators.bars == count
    await warm_up.close()
    assert warm_up._influx is None
    assert client._session.closed
    # a symbol first seen after (a worker does not warm once stopping; the client is reopened)
    await warm_up.frame(b"WC", _frame("WC"), 0)
    assert warm_up._influx is not None
    assert states.get(key_of_series("WC", "1m")) is None  # nothing stored: it starts cold
    await warm_up.close()
