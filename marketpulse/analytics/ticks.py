"""Quotes and trades as the gate and the bar builder see them: small native objects.

The wire schema is :mod:`marketpulse.schemas.events` (pydantic). Building a pydantic model costs
microseconds per event, so the hot path parses a frame with orjson and checks it here instead
(compiled by mypyc); :func:`parse_frame` takes only documents the schema takes, with the values
the schema would give, and says None for anything else, which then goes to pydantic for the
verdict. Each tick keeps the event's JSON object as it came, so what is passed on or
dead-lettered is the original.
"""

from __future__ import annotations

import re
from typing import Any, Final, TypeGuard

from marketpulse.schemas.events import Frame, Quote, Trade

_SYMBOL: Final = re.compile(r"[A-Za-z0-9.:\-_/^]{1,32}")  # schemas.events.Symbol
_QUOTE_KEYS: Final = frozenset(("kind", "symbol", "ts", "bid", "ask", "bid_size", "ask_size",
                                "source"))  # fmt: skip
_TRADE_KEYS: Final = frozenset(("kind", "symbol", "ts", "price", "size", "conditions", "source"))
_FRAME_KEYS: Final = frozenset(("source", "received_ts", "events"))


class QuoteTick:
    """Top of book at one instant."""

    kind: Final = "quote"

    def __init__(
        self,
        symbol: str,
        ts: int,
        bid: float | None,
        ask: float | None,
        bid_size: float,
        ask_size: float,
        raw: dict[str, Any],
    ) -> None:
        self.symbol = symbol
        self.ts = ts
        self.bid = bid
        self.ask = ask
        self.bid_size = bid_size
        self.ask_size = ask_size
        self.raw = raw


class TradeTick:
    """One print."""

    kind: Final = "trade"

    def __init__(
        self,
        symbol: str,
        ts: int,
        price: float | None,
        size: float,
        conditions: list[int | str],
        raw: dict[str, Any],
    ) -> None:
        self.symbol = symbol
        self.ts = ts
        self.price = price
        self.size = size
        self.conditions = conditions
        self.raw = raw


Tick = QuoteTick | TradeTick


class TickFrame:
    """A decoded ``market.raw`` frame."""

    def __init__(self, source: str, received_ts: int, events: list[Tick]) -> None:
        self.source = source
        self.received_ts = received_ts
        self.events = events


def tick_of(event: Quote | Trade) -> Tick:
    """The tick of a validated schema event (``Quote`` or ``Trade``)."""
    raw: dict[str, Any] = event.model_dump(mode="json")
    if isinstance(event, Quote):
        return QuoteTick(
            event.symbol, event.ts, event.bid, event.ask, event.bid_size, event.ask_size, raw
        )
    return TradeTick(event.symbol, event.ts, event.price, event.size, list(event.conditions), raw)


def ticks_of(frame: Frame) -> TickFrame:
    """The ticks of a validated schema frame."""
    return TickFrame(frame.source, frame.received_ts, [tick_of(e) for e in frame.events])


def parse_frame(doc: Any) -> TickFrame | None:
    """The frame a parsed JSON document holds, or None unless it is plainly valid.

    Plainly valid: exactly the schema's keys and JSON types (numbers for floats, integers for
    timestamps). Whatever pydantic would coerce or refuse (a numeric string, a float timestamp,
    an unknown key) is None here, so that pydantic decides.
    """
    if type(doc) is not dict or not _FRAME_KEYS.issuperset(doc) or len(doc) != 3:
        return None
    source = doc["source"]
    received_ts = doc["received_ts"]
    items = doc["events"]
    if type(source) is not str or not _is_timestamp(received_ts) or type(items) is not list:
        return None
    events: list[Tick] = []
    checked = ""  # the last symbol matched against the pattern: frames repeat one symbol
    for item in items:
        if type(item) is not dict:
            return None
        symbol = item.get("symbol")
        ts = item.get("ts")
        if type(symbol) is not str or not _is_timestamp(ts):
            return None
        if symbol != checked:
            if _SYMBOL.fullmatch(symbol) is None:
                return None
            checked = symbol
        event_source = item.get("source", "")
        if type(event_source) is not str:
            return None
        kind = item.get("kind")
        tick: Tick
        if kind == "quote":
            if not _QUOTE_KEYS.issuperset(item) or "bid" not in item or "ask" not in item:
                return None
            bid, ask = item["bid"], item["ask"]
            bid_size, ask_size = item.get("bid_size", 0.0), item.get("ask_size", 0.0)
            if not (_is_price(bid) and _is_price(ask)):
                return None
            if not (_is_number(bid_size) and _is_number(ask_size)):
                return None
            tick = QuoteTick(
                symbol,
                ts,
                None if bid is None else float(bid),
                None if ask is None else float(ask),
                float(bid_size),
                float(ask_size),
                item,
            )
        elif kind == "trade":
            if not _TRADE_KEYS.issuperset(item) or "price" not in item or "size" not in item:
                return None
            price, size = item["price"], item["size"]
            conditions = item.get("conditions", [])
            if not (_is_price(price) and _is_number(size)) or type(conditions) is not list:
                return None
            for condition in conditions:
                if type(condition) is not int and type(condition) is not str:
                    return None
            tick = TradeTick(
                symbol, ts, None if price is None else float(price), float(size), conditions, item
            )
        else:
            return None
        events.append(tick)
    return TickFrame(source, received_ts, events)


def _is_timestamp(value: object) -> TypeGuard[int]:
    return type(value) is int and value >= 0


def _is_number(value: object) -> TypeGuard[float]:
    return type(value) is float or type(value) is int


def _is_price(value: object) -> TypeGuard[float | None]:
    return value is None or type(value) is float or type(value) is int
