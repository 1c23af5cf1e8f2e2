"""Records as InfluxDB points: the measurements of docs/architecture.md, identities from the
records' keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Quote
from marketpulse.schemas.signals import Signal
from marketpulse.storage import measurements
from marketpulse.storage.line_protocol import LineProtocolError, Point, encode
from tests.factories import make_snapshot

S = 1_000_000_000
T0 = 1_700_000_000 * S


def quote(ts: int, bid: float | None = 10.0, symbol: str = "AAPL") -> Quote:
    return Quote(symbol=symbol, ts=ts, bid=bid, ask=10.5, bid_size=1, ask_size=2, source="syn")


def test_a_quote_is_one_market_quotes_point_at_its_own_time() -> None:
    point = measurements.quote_point(quote(T0 + 5))
    assert point is not None
    assert encode(point) == (
        f"market_quotes,source=syn,symbol=AAPL bid=10.0,ask=10.5,bid_size=1.0,ask_size=2.0 {T0 + 5}"
    )
    assert measurements.quote_point(quote(T0, bid=None)) is None


def test_sampling_keeps_each_intervals_last_quote_at_the_interval_start() -> None:
    quotes = [quote(T0 + 1), quote(T0 + S // 2, bid=11.0), quote(T0 + S + 3, bid=12.0)]
    quotes.append(quote(T0 + 7, bid=1.0, symbol="MSFT"))
    points = {(p.tags["symbol"], p.ts): p.fields for p in measurements.sample_quotes(quotes, S)}
    assert points == {
        ("AAPL", T0): {"bid": 11.0, "ask": 10.5, "bid_size": 1.0, "ask_size": 2.0,
                       "quote_ts": T0 + S // 2},
        ("AAPL", T0 + S): {"bid": 12.0, "ask": 10.5, "bid_size": 1.0, "ask_size": 2.0,
                           "quote_ts": T0 + S + 3},
        ("MSFT", T0): {"bid": 1.0, "ask": 10.5, "bid_size": 1.0, "ask_size": 2.0,
                       "quote_ts": T0 + 7},
    }  # fmt: skip


def test_sampling_in_two_batches_ends_with_the_same_stored_value() -> None:
    quotes = [quote(T0 + i * S // 10, bid=10.0 + i) for i in range(10)]
    whole = {p.ts: p for p in measurements.sample_quotes(quotes, S)}
    stored = {}
    for part in (quotes[:4], quotes[4:]):  # a later write of the same point replaces it
        stored.update({p.ts: p for p in measurements.sample_quotes(part, S)})
    assert stored == whole


def test_bars_go_to_market_data_and_daily_ones_to_the_ten_year_policy() -> None:
    bar = Bar(symbol="AAPL", granularity="1m", start=T0, end=T0 + 60 * S, open=1, high=2, low=0.5,
              close=1.5, volume=100, vwap=1.2, trades=7, revision=1)  # fmt: skip
    point = measurements.bar_point(bar)
    assert (point.measurement, point.ts) == ("market_data", T0)
    assert point.tags == {"symbol": "AAPL", "granularity": "1m"}
    assert point.fields["trades"] == 7
    assert point.fields["vwap"] == 1.2
    assert measurements.bar_retention("1m") == "raw_1y"
    assert measurements.bar_retention("1h") == "raw_1y"
    assert measurements.bar_retention("1d") == "daily_10y"
    no_vwap = measurements.bar_point(bar.model_copy(update={"vwap": None}))
    assert "vwap" not in no_vwap.fields


def test_indicators_are_one_point_per_value_tagged_as_in_the_spec() -> None:
    snapshot = make_snapshot("AAPL", "1d", T0, {"sma_20": 148.75, "rsi_14": 55.0})
    lines = sorted(measurements.indicator_lines(snapshot))
    assert lines == [
        f"market_indicators,granularity=1d,indicator=rsi_14,symbol=AAPL value=55.0 {T0}",
        f"market_indicators,granularity=1d,indicator=sma_20,symbol=AAPL value=148.75 {T0}",
    ]


@given(
    name=st.text(st.characters(blacklist_characters="\\", blacklist_categories=["Cs"]),
                 min_size=1, max_size=12),
    value=st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip
@settings(derandomize=True, max_examples=200)
def test_the_indicator_fast_path_encodes_exactly_as_the_generic_encoder(
    name: str, value: float
) -> None:
    snapshot = make_snapshot("BRK.B", "5m", T0, {name: value})
    tags = {"symbol": "BRK.B", "granularity": "5m", "indicator": name}
    expected = encode(Point("market_indicators", {"value": value}, tags, T0))
    assert list(measurements.indicator_lines(snapshot)) == [expected]


def test_a_non_finite_indicator_value_is_refused() -> None:
    snapshot = make_snapshot("A", "1d", T0, {"x": float("nan")})
    with pytest.raises(LineProtocolError, match="NaN"):
        list(measurements.indicator_lines(snapshot))


def test_a_signal_is_one_point_keyed_by_name_with_its_detail_as_fields() -> None:
    signal = Signal(symbol="AAPL", granularity="1d", ts=T0, kind="candlestick",
                    name="cdlengulfing", strength=100, direction="bearish",
                    details={"body": 1.5})  # fmt: skip
    point = measurements.signal_point(signal)
    assert point.tags == {"symbol": "AAPL", "granularity": "1d", "kind": "candlestick",
                          "name": "cdlengulfing"}  # fmt: skip
    assert point.fields == {"strength": 100.0, "direction": "bearish", "detail_body": 1.5,
                            "revision": 0, "withdrawn": False}  # fmt: skip
    # a revision rewrites the point; a withdrawal marks it
    gone = signal.model_copy(update={"revision": 2, "withdrawn": True})
    restated = measurements.signal_point(gone)
    assert (restated.tags, restated.ts) == (point.tags, point.ts)
    assert (restated.fields["revision"], restated.fields["withdrawn"]) == (2, True)
