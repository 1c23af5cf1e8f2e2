"""One symbol's frame step: gate every event, fold trades into bars, close what is due.

``step(state, frame, ...) -> outputs`` over explicit, serializable state, so that it tests
without a broker and the stream and batch paths run the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import orjson

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.conditions import EVERY_PART, mask_of
from marketpulse.analytics.quality import (
    CANCEL,
    CORRECTION,
    TRADE,
    EventGate,
    GateConfig,
    Verdict,
    fields_of,
)
from marketpulse.analytics.sessions import BarCuts, Cut
from marketpulse.analytics.ticks import CancelTick, CorrectionTick, Tick, TickFrame
from marketpulse.schemas.bars import Bar


@dataclass
class SymbolState:
    """Everything kept per symbol: gate memory, open bars, and where it stands in the stream."""

    gate: EventGate
    bars: BarBuilder
    stream_time: int = 0  # the partition's stream time when this state was last written
    offset: int = -1  # the last market.raw offset applied: redeliveries at or below are skipped
    partition: int = -1
    forming_ns: int = 0  # the wall clock when its open bars last went to analytics.forming

    @classmethod
    def new(
        cls, symbol: str, config: GateConfig, granularities: Mapping[str, int | Cut]
    ) -> SymbolState:
        """A state for a symbol seen for the first time (``granularities``: each one's cut, or
        its length for UTC clock boundaries)."""
        bars = BarBuilder(symbol, granularities, dict(config.lateness), config.cancel_window_ns)
        return cls(EventGate(config), bars)

    def to_bytes(self) -> bytes:
        """Encode for the table: a JSON document, a newline, and the gate's fingerprints as
        they lie in memory (as base64 in the document they cost a third of the encoding)."""
        head = orjson.dumps(
            {
                "gate": self.gate.state(),
                "bars": self.bars.state(),
                "stream_time": self.stream_time,
                "offset": self.offset,
                "partition": self.partition,
                "forming_ns": self.forming_ns,
            }
        )
        return head + b"\n" + self.gate.remembered()  # JSON escapes every newline in a string

    @classmethod
    def from_bytes(
        cls, data: bytes, config: GateConfig, granularities: Mapping[str, int | Cut] | BarCuts
    ) -> SymbolState:
        """Decode from the table (``granularities``: as for :meth:`new`, or every symbol's
        cuts); a state written as one document, its fingerprints in it, is read too."""
        head, split, remembered = data.partition(b"\n")
        raw: dict[str, Any] = orjson.loads(head)
        bars = raw["bars"]
        if isinstance(granularities, BarCuts):
            granularities = granularities.of(bars["symbol"])
        return cls(
            EventGate.from_state(
                config, raw["gate"], remembered if split else None, raw["stream_time"]
            ),
            BarBuilder.from_state(
                granularities, bars, dict(config.lateness), config.cancel_window_ns
            ),
            raw["stream_time"],
            raw["offset"],
            raw["partition"],
            raw.get("forming_ns", 0),  # states written before forming bars have none
        )


@dataclass
class StepOutput:
    """What one frame produced."""

    accepted: list[Tick] = field(default_factory=list)
    rejected: list[tuple[Tick, Verdict]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    inert: int = 0  # accepted trades that by their conditions update no part of a bar
    unopened: int = 0  # bars that closed without a trade that could open them (not published)
    too_late: int = 0  # trades too late for a granularity (accepted for one that allows more)
    latest: int = -1  # the latest event time accepted (-1: none)


def step(
    state: SymbolState,
    frame: TickFrame,
    symbol: str,
    stream_time: int,
    now_ns: int,
    grace_ns: int,
) -> tuple[int, StepOutput]:
    """Apply a frame keyed by ``symbol``; return the new stream time and the outputs."""
    out = StepOutput()
    for event in frame.events:
        # every slot in one call, shared with the gate: compiled code reads a msgspec struct's
        # attributes one by one through the generic lookup
        fields = fields_of(event)
        keyed: str = fields[0]
        ts: int = fields[1]
        if keyed != symbol:
            detail = f"event for {keyed} in a frame keyed {symbol}"
            out.rejected.append((event, Verdict("symbol_mismatch", detail)))
            continue
        # msgspec's structs answer isinstance through their metaclass, slowly: their exact
        # types are compared instead (none is subclassed)
        kind = type(event)
        trade = kind is TRADE
        if trade and not state.bars.in_session(ts):
            detail = f"trade at ts {ts} is outside every session of the symbol's calendar"
            out.rejected.append((event, Verdict("outside_session", detail)))
            continue
        verdict = state.gate.check_fields(event, fields, stream_time, now_ns)
        if verdict is None and (kind is CANCEL or kind is CORRECTION):
            verdict = _amend(state.bars, cast("CancelTick | CorrectionTick", event))
        if verdict is not None:
            out.rejected.append((event, verdict))
            continue
        out.accepted.append(event)
        if ts > out.latest:
            out.latest = ts
        if ts > stream_time:
            stream_time = ts
        # a trade's fields: symbol, ts, price, size, conditions, source, updates, id
        price: float | None = fields[2] if trade else None
        if price is not None:
            updates: list[str] | None = fields[6]
            parts = EVERY_PART if updates is None else mask_of(updates)
            if parts:
                state.bars.add_trade(fields[1], price, fields[3], parts, fields[7])
            else:
                out.inert += 1
    out.bars = state.bars.close(stream_time, grace_ns)
    out.unopened = state.bars.take_unopened()
    out.too_late = state.bars.take_too_late()
    state.stream_time = stream_time
    return stream_time, out


def _amend(bars: BarBuilder, event: CancelTick | CorrectionTick) -> Verdict | None:
    """Apply a cancel or a correction to the trade it names; why not, when it names no trade
    kept (then the bars are as they were)."""
    replacement = None
    if isinstance(event, CorrectionTick):
        new_id = event.trade_id if event.id is None else event.id
        replacement = [event.trade_ts, event.price, event.size, mask_of(event.updates), new_id]
    if bars.amend(event.trade_ts, event.trade_id, replacement):
        return None
    kept = bars.cancel_window // 1_000_000
    detail = (
        f"{event.kind} names no trade {event.trade_id!r} at ts {event.trade_ts} among the "
        f"trades kept ({kept} ms of cancel window)"
    )
    return Verdict("unknown_trade", detail)
