"""Frame decoding: valid frames parse, malformed ones are named precisely."""

from __future__ import annotations

import gc

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from marketpulse.analytics.frames import Rejection, decode_frame
from marketpulse.analytics.ticks import (
    QuoteTick,
    Tick,
    TickFrame,
    originals,
    parse_frame,
    ticks_of,
)
from marketpulse.schemas.events import Frame, Quote, Trade, TradeCancel, TradeCorrection


def fields(frame: TickFrame) -> list[tuple[object, ...]]:
    """Everything the gate and the bars read from each tick."""
    return [(type(t), t.kind, t.symbol, t.ts, *_values(t)) for t in frame.events]


def _values(t: Tick) -> tuple[object, ...]:
    if isinstance(t, QuoteTick):
        return (t.bid, t.ask, t.bid_size, t.ask_size)
    return (t.price, t.size, t.conditions)


FRAME = Frame(
    source="synthetic",
    received_ts=5,
    events=[
        Quote(symbol="AAPL", ts=1, bid=1.0, ask=1.1, bid_size=100, ask_size=200),
        Trade(symbol="AAPL", ts=2, price=1.05, size=10, conditions=[12, "T"]),
    ],
)


def test_valid_frame_decodes_to_the_schema_values() -> None:
    payload = FRAME.model_dump_json().encode()
    decoded = decode_frame(payload)
    assert isinstance(decoded, TickFrame)
    assert (decoded.source, decoded.received_ts) == ("synthetic", 5)
    assert fields(decoded) == fields(ticks_of(FRAME))
    events = [orjson.loads(event) for event in originals(payload, decoded)]
    assert Frame.model_validate({**FRAME.model_dump(), "events": events}) == FRAME


def test_what_the_schema_coerces_is_decoded_through_it() -> None:
    """Not plainly valid (a numeric string, a whole float as a timestamp): the schema decides."""
    payload = (
        b'{"source": "x", "received_ts": 1.0, "events": [{"kind": "trade", "symbol": "A", '
        b'"ts": 7, "price": "2.5", "size": 1, "source": "v1"}, {"kind": "quote", '
        b'"symbol": "A", "ts": 8, "bid": "1", "ask": 2, "source": "v2"}]}'
    )
    assert parse_frame(payload) is None
    decoded = decode_frame(payload)
    assert isinstance(decoded, TickFrame)
    assert (decoded.source, decoded.received_ts) == ("x", 1)
    trade, quote = decoded.events
    assert trade.kind == "trade"
    assert (trade.price, trade.size, trade.source) == (2.5, 1.0, "v1")
    assert (quote.kind, quote.bid, quote.source) == ("quote", 1.0, "v2")  # type: ignore[union-attr]
    assert orjson.loads(originals(payload, decoded)[0])["price"] == "2.5"  # as it came


def test_an_event_that_is_not_plain_json_is_given_as_decoded() -> None:
    """A NaN literal (which the schema's parser takes) cannot be cut out as JSON: the event is
    given re-encoded, NaN as null, as JSON has it."""
    payload = (
        b'{"source": "x", "received_ts": 1, "events": [{"kind": "trade", "symbol": "A", '
        b'"ts": 7, "price": NaN, "size": 1}]}'
    )
    decoded = decode_frame(payload)
    assert isinstance(decoded, TickFrame)
    assert orjson.loads(originals(payload, decoded)[0]) == {
        "kind": "trade", "symbol": "A", "ts": 7, "price": None, "size": 1.0, "conditions": [],
        "source": "", "updates": None, "id": None,
    }  # fmt: skip


NUMBER = st.floats(allow_nan=False)
# Sources at the schema's edges: the longest it takes, one longer, a space, a trailing newline.
EDGE_SOURCES = st.sampled_from(["v" * 64, "v" * 65, "a b", "v\n", "ok.1:x-y_z"])
EVENT = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["quote", "trade", "bogus"]),
        "symbol": st.sampled_from(["A", "A B", "", "B.X"]),
    },
    optional={
        "ts": st.one_of(st.integers(-1, 2**63 - 1), st.floats(0, 10), st.booleans()),
        "bid": st.one_of(st.none(), st.integers(-5, 5), NUMBER, st.text(max_size=2)),
        "ask": st.one_of(st.none(), NUMBER),
        "bid_size": st.one_of(st.integers(-5, 5), NUMBER, st.booleans()),
        "price": st.one_of(st.none(), st.integers(0, 9), NUMBER, st.just("1")),
        "size": st.one_of(st.integers(-5, 5), NUMBER, st.none()),
        "conditions": st.one_of(
            st.lists(st.one_of(st.integers(0, 99), st.text(max_size=2), st.floats(0, 1))),
            st.just("T"),
        ),
        "source": st.one_of(st.text(max_size=3), st.integers(0, 1), EDGE_SOURCES),
        "extra": st.integers(0, 1),
    },
)
FRAMES = st.fixed_dictionaries(
    {
        "source": st.one_of(st.text(max_size=3), EDGE_SOURCES),
        "received_ts": st.integers(0, 9),
        "events": st.lists(EVENT, max_size=4),
    },
    optional={"extra": st.integers(0, 1)},
)


@settings(max_examples=500)  # about one in thirteen is valid
@given(FRAMES)
def test_the_native_check_takes_only_what_the_schema_takes_with_its_values(
    doc: dict[str, object],
) -> None:
    payload = orjson.dumps(doc)
    native = parse_frame(payload)
    try:
        schema: Frame | None = Frame.model_validate_json(payload)
    except ValidationError:
        schema = None
    if native is None:
        return
    assert schema is not None, f"accepted natively, refused by the schema: {doc}"
    assert fields(native) == fields(ticks_of(schema))


def test_an_event_without_a_symbol_is_not_taken_natively() -> None:
    """The schema refuses an empty symbol, first in a frame or after a valid one."""
    for symbols in ([""], ["A", ""]):
        events = [{"kind": "trade", "symbol": s, "ts": 1, "price": 1.0, "size": 1.0}
                  for s in symbols]  # fmt: skip
        assert (
            parse_frame(orjson.dumps({"source": "x", "received_ts": 1, "events": events})) is None
        )


def test_plain_frames_take_the_native_path() -> None:
    assert parse_frame(FRAME.model_dump_json().encode()) is not None


@pytest.mark.parametrize("sources", [["v" * 64], ["a", "b:1", "a"], ["", "x"]])
def test_events_of_any_valid_sources_take_the_native_path(sources: list[str]) -> None:
    """Each event's source is matched once per change of value, not only the first."""
    events = [{"kind": "trade", "symbol": "A", "ts": i, "price": 1.0, "size": 1.0, "source": s}
              for i, s in enumerate(sources)]  # fmt: skip
    payload = orjson.dumps({"source": "x", "received_ts": 1, "events": events})
    decoded = parse_frame(payload)
    assert decoded is not None
    assert [e.source for e in decoded.events] == sources
    bad = orjson.dumps({"source": "x", "received_ts": 1, "events": [*events, {**events[0],
                        "source": "a b"}]})  # fmt: skip
    assert parse_frame(bad) is None


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (b"", "empty"),
        (b"not json", "frame"),
        (b'{"source": "x", "received_ts": 1}', "events"),
        (b'{"source": "x", "received_ts": 1, "events": [{"kind": "bogus"}]}', "events.0"),
        (b'{"source": "x", "received_ts": -1, "events": []}', "received_ts"),
        (
            b'{"source": "x", "received_ts": 1, "events": '
            b'[{"kind": "quote", "symbol": "A B", "ts": 1, "bid": 1, "ask": 2}]}',
            "events.0.quote.symbol",
        ),
        (b'{"source": "x", "received_ts": 1, "events": [], "extra": 1}', "extra"),
    ],
)
def test_malformed_frames_are_rejected_with_where(payload: bytes, where: str) -> None:
    result = decode_frame(payload)
    assert isinstance(result, Rejection)
    assert result.reason == "malformed"
    assert where in result.detail


def test_cancels_corrections_and_trade_ids_read_the_same_by_either_path() -> None:
    """The fast decoder and the schema (which a frame goes through when the fast one declines
    it) give the same ticks, every field of them."""
    frame = Frame(source="polygon", received_ts=9, events=[
        TradeCancel(symbol="A", ts=8, trade_id="t1", trade_ts=7, source="polygon"),
        TradeCorrection(symbol="A", ts=8, trade_id="t2", trade_ts=6, price=10.5, size=3.0,
                        conditions=[37], source="polygon", updates=["volume"], id="t2b"),
        Trade(symbol="A", ts=7, price=10.0, size=1.0, source="polygon", id="t3"),
    ])  # fmt: skip
    assert parse_frame(frame.model_dump_json().encode()) == ticks_of(frame)


def test_no_tick_is_tracked_by_the_garbage_collector() -> None:
    """A frame's two hundred ticks cost the collector nothing (no cycle can pass through one):
    every kind, by either path."""
    frame = Frame(source="polygon", received_ts=9, events=[
        *FRAME.events,
        TradeCancel(symbol="A", ts=8, trade_id="t1", trade_ts=7),
        TradeCorrection(symbol="A", ts=8, trade_id="t2", trade_ts=6, price=10.5, size=3.0,
                        conditions=[37]),
    ])  # fmt: skip
    native = parse_frame(frame.model_dump_json().encode())
    assert native is not None
    for decoded in (native, ticks_of(frame)):
        assert {type(t).__name__ for t in decoded.events} == {
            "QuoteTick",
            "TradeTick",
            "CancelTick",
            "CorrectionTick",
        }
        assert not any(gc.is_tracked(t) for t in decoded.events)
