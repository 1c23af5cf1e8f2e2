"""Redis keys, order strings and TTLs follow the key patterns of docs/architecture.md."""

from __future__ import annotations

from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Quote
from marketpulse.storage.cache import describe, granularity_ttl
from tests.factories import make_snapshot

T0 = 1_700_000_000_000_000_000


def test_keys_follow_the_spec_pattern_and_ttls_stay_within_5_to_60_minutes() -> None:
    q = Quote(symbol="AAPL", ts=T0, bid=1, ask=2)
    bar = Bar(symbol="AAPL", granularity="5m", start=T0, end=T0 + 1, open=1, high=1, low=1,
              close=1, volume=0, revision=2)  # fmt: skip
    snap = make_snapshot("AAPL", "1d", T0, {})
    assert describe(q) == ("market_data:AAPL:quote:tick", f"{T0:020d}", 300)
    assert describe(bar) == ("market_data:AAPL:bar:5m", f"{T0:020d}000002", 600)
    assert describe(snap) == ("market_data:AAPL:indicators:1d", f"{T0:020d}", 3600)
    assert granularity_ttl("1m") == 300
    assert granularity_ttl("20m") == 2400


def test_order_strings_sort_like_the_times_they_encode() -> None:
    early = Quote(symbol="A", ts=999_999_999_999_999_999, bid=1, ask=2)
    late = Quote(symbol="A", ts=1_000_000_000_000_000_000, bid=1, ask=2)
    assert describe(early)[1] < describe(late)[1]
