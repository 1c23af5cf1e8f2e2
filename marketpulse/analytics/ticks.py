"""Quotes and trades as the gate and the bar builder see them: msgspec structs.

The wire schema is :mod:`marketpulse.schemas.events` (pydantic). Building a pydantic model costs
microseconds per event, so the hot path decodes a frame with msgspec straight into these typed
structs, without building a dict per event first. :func:`parse_frame` takes only documents the
schema takes, with the values the schema would give (exact keys, JSON types: numbers for
floats, integers for timestamps), and says None for anything else, which then goes to pydantic
for the verdict. :func:`originals` gives each event's JSON as it came, for dead letters.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Final, Literal

import msgspec

from marketpulse.schemas.events import Event, Frame, Quote, TradeCancel, TradeCorrection

# The schema's Symbol and Source, matched in parse_frame once per distinct value of a frame
# (its events repeat one symbol and one source) rather than by msgspec once per event.
_SYMBOL: Final = re.compile(r"[A-Za-z0-9.:\-_/^]{1,32}")
_SOURCE: Final = re.compile(r"[A-Za-z0-9._:\-]{0,64}")
_Timestamp = Annotated[int, msgspec.Meta(ge=0)]
_Source = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z0-9._:\-]*\Z")]
_TradeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_Updates = list[Literal["open_close", "high_low", "volume"]]

# The ticks are structs the garbage collector does not track (gc=False). msgspec leaves a struct
# untracked when it holds no container, but a trade holds its conditions (a list, even empty),
# so every trade would be tracked: allocated and freed with the collector's bookkeeping, and
# counted towards its next collection, a frame's worth at a time. No reference cycle can pass
# through a tick: it holds numbers, strings and lists of them.


class QuoteTick(
    msgspec.Struct, tag_field="kind", tag="quote", forbid_unknown_fields=True, gc=False
):
    """Top of book at one instant."""

    kind: ClassVar[str] = "quote"
    symbol: str
    ts: _Timestamp
    bid: float | None
    ask: float | None
    bid_size: float = 0.0
    ask_size: float = 0.0
    source: str = ""


class TradeTick(
    msgspec.Struct, tag_field="kind", tag="trade", forbid_unknown_fields=True, gc=False
):
    """One print."""

    kind: ClassVar[str] = "trade"
    symbol: str
    ts: _Timestamp
    price: float | None
    size: float
    conditions: list[int | str] = msgspec.field(default_factory=list)
    source: str = ""
    updates: _Updates | None = None
    id: _TradeId | None = None


class CancelTick(
    msgspec.Struct, tag_field="kind", tag="cancel", forbid_unknown_fields=True, gc=False
):
    """The feed's cancel of an earlier trade."""

    kind: ClassVar[str] = "cancel"
    symbol: str
    ts: _Timestamp
    trade_id: _TradeId
    trade_ts: _Timestamp
    source: str = ""


class CorrectionTick(
    msgspec.Struct, tag_field="kind", tag="correction", forbid_unknown_fields=True, gc=False
):
    """The feed's correction of an earlier trade."""

    kind: ClassVar[str] = "correction"
    symbol: str
    ts: _Timestamp
    trade_id: _TradeId
    trade_ts: _Timestamp
    price: float | None
    size: float
    conditions: list[int | str] = msgspec.field(default_factory=list)
    source: str = ""
    updates: _Updates | None = None
    id: _TradeId | None = None


Tick = QuoteTick | TradeTick | CancelTick | CorrectionTick


class TickFrame(msgspec.Struct, forbid_unknown_fields=True):
    """A decoded ``market.raw`` frame."""

    source: _Source
    received_ts: _Timestamp
    events: list[Tick]


class _Originals(msgspec.Struct):
    events: list[msgspec.Raw]


_FRAME: Final = msgspec.json.Decoder(TickFrame)
_ORIGINALS: Final = msgspec.json.Decoder(_Originals)


def tick_of(event: Event) -> Tick:
    """The tick of a validated schema event."""
    if isinstance(event, Quote):
        return QuoteTick(event.symbol, event.ts, event.bid, event.ask, event.bid_size,
                         event.ask_size, event.source)  # fmt: skip
    if isinstance(event, TradeCancel):
        return CancelTick(event.symbol, event.ts, event.trade_id, event.trade_ts, event.source)
    updates = None if event.updates is None else list(event.updates)
    if isinstance(event, TradeCorrection):
        return CorrectionTick(event.symbol, event.ts, event.trade_id, event.trade_ts,
                              event.price, event.size, list(event.conditions), event.source,
                              updates, event.id)  # fmt: skip
    return TradeTick(event.symbol, event.ts, event.price, event.size, list(event.conditions),
                     event.source, updates, event.id)  # fmt: skip


def ticks_of(frame: Frame) -> TickFrame:
    """The ticks of a validated schema frame."""
    return TickFrame(frame.source, frame.received_ts, [tick_of(e) for e in frame.events])


def parse_frame(payload: bytes) -> TickFrame | None:
    """The frame in ``payload``, or None unless it is plainly valid.

    Whatever pydantic would coerce or refuse (a numeric string, a float timestamp, an unknown
    key, a symbol off the pattern) is None here, so that pydantic decides.
    """
    try:
        frame = _FRAME.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    # the last values matched against their patterns (no symbol yet: an empty one is refused;
    # an empty source is the schema's default)
    symbol_checked: str | None = None
    source_checked = ""
    for event in frame.events:
        symbol, source = event.symbol, event.source
        if symbol != symbol_checked:
            if _SYMBOL.fullmatch(symbol) is None:
                return None
            symbol_checked = symbol
        if source != source_checked:
            if _SOURCE.fullmatch(source) is None:
                return None
            source_checked = source
    return frame


def originals(payload: bytes, frame: TickFrame) -> list[bytes]:
    """Each event of ``frame`` (decoded from ``payload``) as JSON, exactly as it came when the
    payload is plain JSON, else as decoded (a ``NaN`` literal, say)."""
    try:
        raw = _ORIGINALS.decode(payload).events
    except (msgspec.ValidationError, msgspec.DecodeError):
        raw = []
    if len(raw) == len(frame.events):
        return [bytes(event) for event in raw]
    return [msgspec.json.encode(event) for event in frame.events]
