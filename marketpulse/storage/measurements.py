"""What each record becomes in InfluxDB: the measurements of docs/architecture.md, and their
retention.

A point's identity is measurement, tags and timestamp, so every record maps to points whose
identity comes from the record's own deterministic key (symbol, granularity, bar start, name):
writing a redelivered record again replaces the same points and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import Quote
from marketpulse.schemas.signals import Signal
from marketpulse.storage.influx import RETENTION
from marketpulse.storage.line_protocol import FieldValue, Point, field_value, remember, series_head

QUOTES = "market_quotes"
BARS = "market_data"
INDICATORS = "market_indicators"
SIGNALS = "market_signals"

_DAY_NS = 86_400 * 10**9


def bar_retention(granularity: str) -> str:
    """Daily and longer bars are kept 10 years; intraday bars are raw data, kept one year."""
    if parse_granularity(granularity) >= _DAY_NS:
        return RETENTION["daily"].name
    return RETENTION["raw"].name


def quote_point(quote: Quote, ts: int | None = None) -> Point | None:
    """``market_quotes``: the top of book (None when a side is missing: nothing to store)."""
    if quote.bid is None or quote.ask is None:
        return None
    fields: dict[str, FieldValue] = {
        "bid": quote.bid,
        "ask": quote.ask,
        "bid_size": quote.bid_size,
        "ask_size": quote.ask_size,
    }
    if ts is not None:
        fields["quote_ts"] = quote.ts
    tags = {"symbol": quote.symbol}
    if quote.source:
        tags["source"] = quote.source
    return Point(QUOTES, fields, tags, quote.ts if ts is None else ts)


def sample_quotes(quotes: Iterable[Quote], interval_ns: int) -> Iterator[Point]:
    """One point per symbol and interval, stamped at the interval's start, holding its last quote.

    A later quote in the same interval (in this batch or a later one) rewrites the point, so the
    stored value is the interval's last quote however the stream was cut into batches.
    """
    last: dict[tuple[str, str, int], Quote] = {}
    for quote in quotes:
        bucket = quote.ts - quote.ts % interval_ns
        last[(quote.symbol, quote.source, bucket)] = quote
    for (_symbol, _source, bucket), quote in last.items():
        point = quote_point(quote, ts=bucket)
        if point is not None:
            yield point


def bar_point(bar: Bar) -> Point:
    """``market_data``: one bar, stamped at its start; a revision rewrites it."""
    fields: dict[str, FieldValue] = {
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "trades": bar.trades,
        "revision": bar.revision,
    }
    if bar.vwap is not None:
        fields["vwap"] = bar.vwap
    if bar.session is not None:  # a calendar's bar: its own end (a session's last may be short)
        fields["end"] = bar.end
        fields["session"] = bar.session
    return Point(BARS, fields, {"symbol": bar.symbol, "granularity": bar.granularity}, bar.start)


_indicator_heads: dict[tuple[str, str, str], str] = {}


def indicator_lines(snapshot: IndicatorSnapshot) -> Iterator[str]:
    """``market_indicators``: one point per defined output, tagged ``indicator``.

    Encoded here rather than through Point objects: this is the busiest measurement (every
    value of every bar), and a line per value with a cached series head is several times
    faster; the head and the value are encoded by line_protocol all the same.
    """
    symbol, granularity, ts = snapshot.symbol, snapshot.granularity, snapshot.bar_start
    for name, value in snapshot.values.items():
        key = (symbol, granularity, name)
        head = _indicator_heads.get(key) or remember(
            _indicator_heads,
            key,
            series_head(
                INDICATORS, {"symbol": symbol, "granularity": granularity, "indicator": name}
            ),
        )
        yield f"{head} value={field_value('value', value)} {ts}"


def signal_point(signal: Signal) -> Point:
    """``market_signals``: one point per signal name and bar; a revision rewrites it, and one
    withdrawn is kept, marked so (InfluxQL has no delete a sink should issue per point)."""
    fields: dict[str, FieldValue] = {
        "strength": signal.strength,
        "direction": signal.direction,
        "revision": signal.revision,
        "withdrawn": signal.withdrawn,
    }
    fields.update({f"detail_{k}": v for k, v in signal.details.items()})
    tags = {
        "symbol": signal.symbol,
        "granularity": signal.granularity,
        "kind": signal.kind,
        "name": signal.name,
    }
    return Point(SIGNALS, fields, tags, signal.ts)
