"""The quality gate: each reason code, in isolation, and the spike rule's confirmation."""

from __future__ import annotations

import math
import random
from array import array

import orjson
import pytest
from msgspec.structs import astuple

from marketpulse.analytics.quality import (
    OHLC_TOLERANCE,
    EventGate,
    GateConfig,
    _fingerprint,
    check_bar,
    check_built_bar,
    widened,
)
from marketpulse.analytics.sessions import SessionTable, cut_for
from marketpulse.analytics.ticks import (
    CancelTick,
    CorrectionTick,
    QuoteTick,
    Tick,
    TradeTick,
    tick_of,
)
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Quote, Trade, TradeCancel, TradeCorrection

S = 1_000_000_000
NOW = 1_700_000_000 * S
CONFIG = GateConfig(
    grace_ns=2 * S,
    max_future_ns=5 * S,
    spike_bound=0.2,
    spike_confirmations=3,
    max_price=1e6,
    max_size=1e9,
)


def quote(ts: int = NOW, bid: float | None = 100.0, ask: float | None = 100.1, **kw: float) -> Tick:
    return tick_of(Quote(symbol="AAA", ts=ts, bid=bid, ask=ask, **kw))


def trade(ts: int = NOW, price: float | None = 100.0, size: float = 10) -> Tick:
    return tick_of(Trade(symbol="AAA", ts=ts, price=price, size=size))


def verdict(event: Tick, gate: EventGate | None = None, stream_time: int = NOW) -> str | None:
    result = (gate or EventGate(CONFIG)).check(event, stream_time, NOW)
    return None if result is None else result.reason


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (quote(), None),
        (quote(bid=100.0, ask=100.0), None),  # locked, not crossed
        (trade(), None),
        (trade(size=0), None),
        (quote(bid=None), "bad_price"),
        (quote(ask=math.nan), "bad_price"),
        (quote(bid=math.inf), "bad_price"),
        (quote(bid=0.0), "bad_price"),
        (trade(price=-1.0), "bad_price"),
        (trade(price=None), "bad_price"),
        (trade(price=math.nan), "bad_price"),
        (trade(size=-5), "negative_size"),
        (quote(bid_size=-1), "negative_size"),
        (trade(price=1e6), None),  # at the bounds
        (trade(size=1e9), None),
        (quote(bid=1e6, ask=1e6, bid_size=1e9, ask_size=1e9), None),
        (trade(price=1.000001e6), "out_of_range"),
        (trade(price=1e308, size=1e308), "out_of_range"),
        (trade(size=1.000001e9), "out_of_range"),
        (trade(size=math.inf), "out_of_range"),
        (trade(size=math.nan), "out_of_range"),
        (quote(bid=1e6, ask=1.000001e6), "out_of_range"),
        (quote(ask_size=2e9), "out_of_range"),
        (quote(bid_size=math.nan), "out_of_range"),
        (quote(bid=100.2, ask=100.1), "crossed_quote"),
        (trade(ts=NOW + 6 * S), "future_timestamp"),
        (trade(ts=NOW + 4 * S), None),
    ],
)
def test_single_event_reasons(event: Tick, reason: str | None) -> None:
    assert verdict(event) == reason


def test_late_is_relative_to_stream_time_and_grace() -> None:
    gate = EventGate(CONFIG)
    assert verdict(trade(ts=NOW - 2 * S), gate, stream_time=NOW) is None  # exactly at the grace
    assert verdict(trade(ts=NOW - 2 * S - 1), gate, stream_time=NOW) == "late"


def test_duplicates_are_refused_but_distinct_events_at_one_time_pass() -> None:
    gate = EventGate(CONFIG)
    assert verdict(trade(size=10), gate) is None
    assert verdict(trade(size=10), gate) == "duplicate"
    assert verdict(trade(size=11), gate) is None
    assert verdict(quote(), gate) is None
    assert verdict(quote(), gate) == "duplicate"


def test_dedup_memory_is_bounded_by_count() -> None:
    gate = EventGate(GateConfig(dedup_window=3))
    for i in range(5):
        assert verdict(trade(ts=NOW + i), gate) is None
    assert len(gate.recent) == 3
    assert verdict(trade(ts=NOW + 4), gate) == "duplicate"
    assert verdict(trade(ts=NOW), gate) is None  # forgotten: outside the window


def test_the_remembered_window_wraps_and_is_written_oldest_first() -> None:
    """Past its size the window forgets its oldest fingerprint at each new one, and its state
    lists them oldest first wherever the ring has got to: the same state as a gate that has
    seen only the last of them, and one restored with a smaller window keeps the newest."""
    events = [trade(ts=NOW + i) for i in range(8)]
    gate, last_three = EventGate(GateConfig(dedup_window=3)), EventGate(GateConfig(dedup_window=3))
    for event in events:
        assert verdict(event, gate) is None
    for event in events[5:]:
        assert verdict(event, last_three) is None
    state, remembered = gate.state(), gate.remembered()
    assert (state, remembered) == (last_three.state(), last_three.remembered())
    recent = array("q", remembered).tolist()
    assert recent == last_three.recent.tolist()  # 8-byte integers, as array("q") reads them
    assert len(set(recent)) == 3
    restored = EventGate.from_state(GateConfig(dedup_window=3), state, remembered)
    for wrapped in (gate, restored):
        assert [verdict(e, wrapped) for e in events[5:]] == ["duplicate"] * 3
        assert verdict(events[4], wrapped) is None  # forgotten
    smaller = EventGate.from_state(GateConfig(dedup_window=2), state, remembered)
    assert array("q", smaller.remembered()).tolist() == recent[1:]
    assert verdict(events[5], smaller) is None  # the oldest of the three, not kept
    assert verdict(events[7], smaller) == "duplicate"


def _remembered_by_reference(events: list[Tick], window: int) -> list[str | None]:
    """The gate's verdicts on ``events`` by the plain rule: a duplicate is an event whose
    fingerprint is among the last ``window`` accepted."""
    recent: list[int] = []
    verdicts: list[str | None] = []
    for event in events:
        fingerprint = _fingerprint(astuple(event), isinstance(event, QuoteTick))
        if fingerprint in recent[-window:]:
            verdicts.append("duplicate")
        else:
            recent.append(fingerprint)
            verdicts.append(None)
    return verdicts


@pytest.mark.parametrize("window", [1, 2, 3, 5, 9, 16])
@pytest.mark.parametrize("seed", range(4))
def test_duplicates_are_exactly_the_last_window_s_fingerprints(window: int, seed: int) -> None:
    """Whatever the order of times (in order, bursts at one instant longer and shorter than the
    burst lookup, late events, resends of recent and of forgotten events) and wherever the
    gate is written and read back, a duplicate is an event among the last ``window`` accepted,
    and nothing else."""
    rng = random.Random(seed * 100 + window)  # noqa: S311 - test data, not secrets
    events: list[Tick] = []
    clock = NOW
    for _ in range(400):
        roll = rng.random()
        if events and roll < 0.25:
            events.append(events[-rng.randint(1, min(len(events), 3 * window + 3))])  # a resend
            continue
        if roll < 0.55:
            clock += rng.randint(1, 3)
        ts = clock - (rng.randint(0, 4) if roll > 0.9 else 0)  # late now and then
        price = 100.0 + rng.randint(0, 20) / 100
        size = float(rng.randint(1, 4))
        events.append(quote(ts, price, price + 0.01) if roll < 0.4 else trade(ts, price, size))
    restore_at = frozenset(rng.sample(range(400), 12))
    config = GateConfig(dedup_window=window, grace_ns=S, spike_bound=1.0, max_price=1e6)
    gate, verdicts = EventGate(config), []
    for i, event in enumerate(events):
        if i in restore_at:
            state = orjson.loads(orjson.dumps(gate.state()))
            gate = EventGate.from_state(config, state, gate.remembered())
        result = gate.check(event, NOW, NOW)
        verdicts.append(None if result is None else result.reason)
    assert verdicts == _remembered_by_reference(events, window)
    assert verdicts.count("duplicate") >= 10  # the sequence does exercise the lookups


def test_a_window_looked_up_late_forgets_what_the_ring_forgets() -> None:
    """A late event builds the window's set; the set then follows the ring, its oldest leaving
    as new ones come, and is dropped once a window's worth of events needed none of it."""
    gate = EventGate(GateConfig(dedup_window=3, grace_ns=S))
    for i in range(3):
        assert verdict(trade(ts=NOW + i), gate) is None
    assert verdict(trade(ts=NOW), gate) == "duplicate"  # older than the newest: in the set
    assert verdict(trade(ts=NOW + 3), gate) is None  # pushes NOW out
    assert verdict(trade(ts=NOW), gate) is None  # forgotten; remembered again, pushes NOW + 1
    assert verdict(trade(ts=NOW + 1), gate) is None
    for i in range(4, 9):
        assert verdict(trade(ts=NOW + i), gate) is None
    assert verdict(trade(ts=NOW + 7), gate) == "duplicate"  # the set made again
    assert verdict(trade(ts=NOW + 5), gate) is None


def test_a_long_burst_at_one_instant_is_looked_up_whole() -> None:
    """Prints at one instant past the burst lookup's reach are found in the window's set, the
    first of them included, and after a restore too."""
    gate = EventGate(GateConfig(dedup_window=64))
    burst = [trade(price=100 + i / 100) for i in range(12)]
    for event in burst:
        assert verdict(event, gate) is None
    state = orjson.loads(orjson.dumps(gate.state()))
    restored = EventGate.from_state(GateConfig(dedup_window=64), state, gate.remembered())
    for checked in (gate, restored):
        assert [verdict(e, checked) for e in burst] == ["duplicate"] * 12
    assert verdict(trade(price=101.0), gate) is None


@pytest.mark.parametrize(("latest", "fresh"), [(NOW + 4, NOW + 5), (None, NOW + 5)])
def test_a_gate_written_before_it_kept_its_newest_time_still_refuses_resends(
    latest: int | None, fresh: int
) -> None:
    """A state with no ``newest`` takes the symbol's stream time as the latest time remembered
    (or, with none, looks every event up): a resend at any time before it is refused."""
    gate = EventGate(CONFIG)
    events = [trade(ts=NOW + i, price=100 + i / 10) for i in range(5)]
    for event in events:
        assert verdict(event, gate) is None
    state = {k: v for k, v in gate.state().items() if k not in ("newest", "since")}
    restored = EventGate.from_state(CONFIG, state, gate.remembered(), latest)
    assert [verdict(e, restored) for e in reversed(events)] == ["duplicate"] * 5
    assert verdict(trade(ts=fresh, price=100.5), restored) is None
    assert verdict(trade(ts=fresh, price=100.5), restored) == "duplicate"


def test_the_window_s_set_is_kept_while_looked_in_and_dropped_a_window_after() -> None:
    """The set of the whole window is made by a lookup and follows the ring while lookups
    come; a window's worth of fingerprints remembered with no lookup drops it (its memory is
    what the ring spares), and the next lookup makes it again from the ring."""
    gate = EventGate(GateConfig(dedup_window=4, grace_ns=S))
    for i in range(4):
        assert verdict(trade(ts=NOW + 10 + i), gate) is None
    assert gate._window is None  # in time order: no lookup
    assert verdict(trade(ts=NOW + 10), gate) == "duplicate"
    for i in range(3):
        assert verdict(trade(ts=NOW + 20 + i), gate) is None
        assert gate._window is not None, i
    assert verdict(trade(ts=NOW + 1), gate) is None  # a late event: looked up, remembered
    for i in range(2):
        assert verdict(trade(ts=NOW + 30 + i), gate) is None
        assert gate._window == set(gate.recent), i
    assert verdict(trade(ts=NOW + 32), gate) is None  # the window's fourth since the lookup
    assert gate._window is None
    assert verdict(trade(ts=NOW + 31), gate) == "duplicate"
    assert gate._window == set(gate.recent)


def test_an_event_at_time_zero_is_remembered_across_a_restore() -> None:
    """Times start at 0: a gate that remembers an event at 0 writes that as its latest time."""
    gate = EventGate(CONFIG)
    first = trade(ts=0)
    assert gate.check(first, 0, 0) is None
    state = orjson.loads(orjson.dumps(gate.state()))
    restored = EventGate.from_state(CONFIG, state, gate.remembered())
    result = restored.check(first, 0, 0)
    assert result is not None
    assert result.reason == "duplicate"


def test_a_gate_written_before_it_kept_its_newest_time_looks_up_a_burst_whole() -> None:
    """Read without its latest time, a gate cannot tell how many of its fingerprints are at
    the symbol's stream time: a long burst there is looked up whole."""
    gate = EventGate(CONFIG)
    burst = [trade(ts=NOW, price=100 + i / 100) for i in range(12)]
    for event in burst:
        assert verdict(event, gate) is None
    state = {k: v for k, v in gate.state().items() if k not in ("newest", "since")}
    restored = EventGate.from_state(CONFIG, state, gate.remembered(), NOW)
    assert [verdict(e, restored) for e in burst] == ["duplicate"] * 12


def test_fingerprints_do_not_depend_on_the_process() -> None:
    """Text conditions would hash differently in every process (PYTHONHASHSEED)."""
    import subprocess
    import sys

    code = (
        "from msgspec.structs import astuple;"
        "from marketpulse.analytics.quality import _fingerprint;"
        "from marketpulse.analytics.ticks import TradeTick;"
        "print(_fingerprint(astuple(TradeTick('A', 1, 2.0, 3.0, ['T', 12])), False))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }  # fmt: skip
    assert len(runs) == 1


def test_spike_is_refused_until_the_new_level_is_confirmed() -> None:
    gate = EventGate(CONFIG)
    assert verdict(trade(ts=NOW, price=100.0), gate) is None
    assert verdict(trade(ts=NOW + 1, price=130.0), gate) == "price_spike"
    assert verdict(trade(ts=NOW + 2, price=101.0), gate) is None  # back to normal: resets
    assert verdict(trade(ts=NOW + 3, price=150.0), gate) == "price_spike"
    assert verdict(trade(ts=NOW + 4, price=151.0), gate) == "price_spike"
    assert verdict(trade(ts=NOW + 5, price=150.5), gate) is None  # third in a row: new level
    assert verdict(trade(ts=NOW + 6, price=152.0), gate) is None
    assert verdict(trade(ts=NOW + 7, price=101.0), gate) == "price_spike"


def test_a_quote_s_mid_is_held_to_the_last_price_and_amendments_are_not() -> None:
    """Quotes and trades share the last good price; a cancel or a correction is not a new price
    of the market: neither refused as a spike nor moving the reference."""
    gate = EventGate(CONFIG)
    assert verdict(trade(ts=NOW, price=100.0), gate) is None
    assert verdict(quote(ts=NOW + 1, bid=140.0, ask=140.2), gate) == "price_spike"
    fixed = TradeCorrection(symbol="AAA", ts=NOW + 2, trade_id="7", trade_ts=NOW, price=140.0,
                            size=10)  # fmt: skip
    assert verdict(tick_of(fixed), gate) is None
    assert verdict(quote(ts=NOW + 3, bid=100.0, ask=100.2), gate) is None


def test_gate_state_round_trips() -> None:
    gate = EventGate(CONFIG)
    for i in range(3):
        gate.check(trade(ts=NOW + i, price=100 + i), NOW, NOW)
    gate.check(trade(ts=NOW + 9, price=200), NOW, NOW)
    state = orjson.loads(orjson.dumps(gate.state()))
    restored = EventGate.from_state(CONFIG, state, gate.remembered())
    assert (restored.state(), restored.remembered()) == (gate.state(), gate.remembered())
    assert verdict(trade(ts=NOW + 1, price=101), restored) == "duplicate"
    assert verdict(trade(ts=NOW + 10, price=201), restored) == "price_spike"  # second of three


M = 60 * S
START = NOW - NOW % M


def bar(**changes: object) -> Bar:
    fields: dict[str, object] = {
        "symbol": "AAA", "granularity": "1m", "start": START, "end": START + M,
        "open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5, "volume": 100.0,
    }  # fmt: skip
    fields.update(changes)
    return Bar.model_validate(fields)


@pytest.mark.parametrize(
    ("candidate", "last_start", "reason"),
    [
        (bar(), None, None),
        (bar(), START - M, None),
        (bar(high=10.2), None, "bad_ohlc"),
        (bar(low=10.6), None, "bad_ohlc"),
        (bar(close=8.99999, low=9.0), None, "bad_ohlc"),  # a thousandth of a cent: a fault
        (bar(close=9.0 * (1 - 1e-11), low=9.0), None, "bad_ohlc"),
        (bar(low=0.0), None, "bad_price"),
        (bar(close=math.nan), None, "bad_price"),
        (bar(volume=-1.0), None, "negative_size"),
        (bar(volume=math.inf), None, "out_of_range"),
        (bar(volume=1.000001e9), None, "out_of_range"),
        (bar(high=1.000001e6), None, "out_of_range"),
        (bar(granularity="7x"), None, "bad_granularity"),
        (bar(granularity="t500"), None, "bad_granularity"),  # activity bars: built here only
        (bar(start=START + 1, end=START + M + 1), None, "bad_granularity"),
        (bar(end=START + 2 * M), None, "bad_granularity"),
        (bar(), START, "duplicate"),
        (bar(), START + M, "out_of_order"),
    ],
)
def test_ready_made_bars(candidate: Bar, last_start: int | None, reason: str | None) -> None:
    result = check_bar(candidate, last_start, CONFIG)
    assert (None if result is None else result.reason) == reason


def test_the_gate_reads_tick_fields_in_their_declared_order() -> None:
    """The gate reads a tick's fields by position (msgspec's astuple), for speed: a reordered
    struct must fail here, not pass the wrong values to the checks."""
    assert QuoteTick.__struct_fields__ == (
        "symbol", "ts", "bid", "ask", "bid_size", "ask_size", "source"
    )  # fmt: skip
    assert TradeTick.__struct_fields__ == (
        "symbol", "ts", "price", "size", "conditions", "source", "updates", "id"
    )  # fmt: skip
    assert CancelTick.__struct_fields__ == ("symbol", "ts", "trade_id", "trade_ts", "source")
    assert CorrectionTick.__struct_fields__ == (
        "symbol", "ts", "trade_id", "trade_ts", "price", "size", "conditions", "source",
        "updates", "id",
    )  # fmt: skip


def detail(event: Tick, gate: EventGate | None = None, stream_time: int = NOW) -> str:
    result = (gate or EventGate(CONFIG)).check(event, stream_time, NOW)
    assert result is not None
    return result.detail


@pytest.mark.parametrize(
    ("event", "stream_time", "expected"),
    [
        (quote(bid=None), NOW, "quote bid=None ask=100.1"),
        (quote(bid_size=-1), NOW, "bid_size=-1.0 ask_size=0.0"),
        (quote(bid=100.2, ask=100.1), NOW, "bid 100.2 > ask 100.1"),
        (trade(price=-1.0), NOW, "trade price=-1.0"),
        (trade(size=-5), NOW, "trade size=-5.0"),
        (trade(ts=NOW + 6 * S), NOW, f"ts {NOW + 6 * S} is 6.000 s ahead of the clock"),
        (trade(ts=NOW - 3 * S), NOW, f"ts {NOW - 3 * S} is 3.000 s behind stream time"),
        # far enough for the third decimal to show that these are seconds, exactly
        (trade(ts=NOW + 10**6 * S), NOW, f"ts {NOW + 10**6 * S} is 1000000.000 s ahead of"),
        (trade(ts=NOW - 10**6 * S), NOW, f"ts {NOW - 10**6 * S} is 1000000.000 s behind"),
    ],
)
def test_each_refusal_says_what_was_wrong(event: Tick, stream_time: int, expected: str) -> None:
    assert detail(event, stream_time=stream_time).startswith(expected)


def test_a_duplicate_and_a_spike_say_which_and_how_far() -> None:
    gate = EventGate(CONFIG)
    assert verdict(trade(price=100.0), gate) is None
    assert detail(trade(price=100.0), gate) == f"trade at ts {NOW} already accepted"
    assert detail(trade(ts=NOW + 1, price=130.0), gate) == "130.0 is 30.0% from 100.0"


def test_the_bounds_themselves_pass() -> None:
    assert verdict(trade(ts=NOW + 5 * S)) is None  # exactly max_future ahead
    assert verdict(trade(price=0.5)) is None  # any positive price, however small
    gate = EventGate(GateConfig(spike_bound=0.25))
    assert verdict(trade(price=100.0), gate) is None
    assert verdict(trade(ts=NOW + 1, price=125.0), gate) is None  # exactly the bound away


def test_events_alike_but_for_one_field_are_not_duplicates() -> None:
    gate = EventGate(CONFIG)
    base = Quote(symbol="AAA", ts=NOW, bid=100.0, ask=100.1, bid_size=1, ask_size=2)
    for changed in (
        {},
        {"bid_size": 3},  # each size counts, separately
        {"ask_size": 3},
        {"bid": 100.05},
        {"ask": 100.2},
    ):
        assert verdict(tick_of(base.model_copy(update=changed)), gate) is None, changed
    plain = Trade(symbol="AAA", ts=NOW, price=100.0, size=10)
    for conditions in ([], [14], [14, 41], ["T"], ["T", 12], [41, 14]):
        event = tick_of(plain.model_copy(update={"conditions": conditions}))
        assert verdict(event, gate) is None, conditions
    # a trade whose numbers equal a quote's is still a trade of its own
    assert verdict(tick_of(Trade(symbol="AAA", ts=NOW, price=100.0, size=100.1,
                                 conditions=[1, 2])), gate) is None  # fmt: skip
    assert verdict(tick_of(Quote(symbol="AAA", ts=NOW, bid=100.0, ask=100.1, bid_size=1,
                                 ask_size=2)), gate) == "duplicate"  # fmt: skip
    # two prints alike but for the feed's ids are two trades; one id sent again is a duplicate
    for trade_id in ("7", "8"):
        assert verdict(tick_of(plain.model_copy(update={"id": trade_id})), gate) is None
    assert verdict(tick_of(plain.model_copy(update={"id": "8"})), gate) == "duplicate"
    # a cancel and corrections of one trade, each alike the one before but for one field
    named = {"symbol": "AAA", "ts": NOW, "trade_id": "7", "trade_ts": NOW - 1}
    assert verdict(tick_of(TradeCancel(**named)), gate) is None
    fixed = TradeCorrection(**named, price=100.0, size=10)
    for change in ({}, {"price": 100.5}, {"size": 11}, {"conditions": [37]},
                   {"trade_id": "8"}, {"trade_ts": NOW - 2}):  # fmt: skip
        fixed = fixed.model_copy(update=change)
        assert verdict(tick_of(fixed), gate) is None, change
    assert verdict(tick_of(fixed), gate) == "duplicate"
    assert verdict(tick_of(TradeCancel(**named)), gate) == "duplicate"


def test_a_new_level_confirmed_becomes_the_reference() -> None:
    gate = EventGate(GateConfig(spike_bound=0.25, spike_confirmations=3))
    assert verdict(trade(ts=NOW, price=100.0), gate) is None
    assert verdict(trade(ts=NOW + 1, price=200.0), gate) == "price_spike"
    # 250 is exactly the bound from the pending 200: the same new level, the second sighting
    assert verdict(trade(ts=NOW + 2, price=250.0), gate) == "price_spike"
    assert verdict(trade(ts=NOW + 3, price=250.0, size=11), gate) is None  # third: confirmed
    assert verdict(trade(ts=NOW + 4, price=100.0), gate) == "price_spike"  # 100 is now the jump


def test_a_fresh_gate_stores_no_pending_level() -> None:
    gate = EventGate(CONFIG)
    assert gate.state() == {
        "last_price": None,
        "pending_price": None,
        "pending_count": 0,
        "newest": None,
        "since": 0,
    }
    assert gate.remembered() == b""


@pytest.mark.parametrize(
    ("candidate", "last_start", "expected"),
    [
        (bar(low=0.0), None, "bar prices (10.0, 11.0, 0.0, 10.5)"),
        (bar(high=10.2), None, "o=10.0 h=10.2 l=9.0 c=10.5"),
        (bar(volume=-1.0), None, "bar volume -1.0"),
        (bar(granularity="7x"), None, "7x"),
        (bar(end=START + 2 * M), None, f"[{START}, {START + 2 * M}) is not one 1m"),
        (bar(), START, f"bar AAA|1m|{START} already accepted"),
        (bar(), START + M, f"bar AAA|1m|{START} starts before {START + M}"),
    ],
)
def test_each_bar_refusal_says_what_was_wrong(
    candidate: Bar, last_start: int | None, expected: str
) -> None:
    result = check_bar(candidate, last_start, CONFIG)
    assert result is not None
    assert expected in result.detail


@pytest.mark.parametrize(
    "candidate",
    [
        bar(open=9.0, low=9.0),  # the low is the open
        bar(close=11.0, high=11.0),  # the high is the close
        bar(open=10.0, high=10.0, low=10.0, close=10.0),  # no range at all
        bar(volume=0.0),
        bar(volume=0.5),
        bar(volume=1e9),
        bar(high=1e6),
        bar(close=math.nextafter(9.0, 0.0), low=9.0),  # an ulp below the low: float noise
        bar(close=11.0 * (1 + 4e-16), high=11.0),  # a few ulps above the high
    ],
)
def test_bars_at_the_bounds_pass(candidate: Bar) -> None:
    assert check_bar(candidate, START - M, CONFIG) is None


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (bar(), None),
        (bar(vwap=None), None),
        (bar(volume=math.inf), "non_finite"),
        (bar(vwap=math.nan), "non_finite"),
        (bar(high=math.inf), "non_finite"),
        (bar(close=math.nan), "non_finite"),
    ],
)
def test_a_built_bar_must_be_finite(candidate: Bar, reason: str | None) -> None:
    result = check_built_bar(candidate)
    assert (None if result is None else result.reason) == reason
    if result is not None:
        assert candidate.key() in result.detail


def test_a_bar_outside_its_range_by_noise_is_widened_to_hold_it() -> None:
    noisy = bar(close=math.nextafter(9.0, 0.0), low=9.0, open=11.0 * (1 + 4e-16), high=11.0)
    fixed = widened(noisy)
    assert (fixed.low, fixed.high) == (noisy.close, noisy.open)
    assert (fixed.open, fixed.close, fixed.volume) == (noisy.open, noisy.close, noisy.volume)
    assert widened(bar()) == bar()


@pytest.mark.parametrize(
    ("event", "detail"),
    [
        (quote(bid_size=2e9), "bid_size=2000000000.0 ask_size=0.0 > 1000000000.0"),
        (quote(bid=2e6, ask=2e6), "ask 2000000.0 > 1000000.0"),
        (trade(size=2e9), "trade size=2000000000.0 > 1000000000.0"),
        (trade(price=2e6), "trade price=2000000.0 > 1000000.0"),
    ],
)
def test_out_of_range_says_what_and_the_bound(event: Tick, detail: str) -> None:
    result = EventGate(CONFIG).check(event, NOW, NOW)
    assert result is not None
    assert (result.reason, result.detail) == ("out_of_range", detail)


def test_bar_refusals_for_bounds_activity_and_sessions_say_why() -> None:
    high = check_bar(bar(high=2e6), None, CONFIG)
    assert high is not None
    assert high.detail == "bar high 2000000.0 > 1000000.0"
    heavy = check_bar(bar(volume=2e9), None, CONFIG)
    assert heavy is not None
    assert heavy.detail == "bar volume 2000000000.0 > 1000000000.0"
    activity = check_bar(bar(granularity="t500"), None, CONFIG)
    assert activity is not None
    assert activity.detail == "t500 bars are built here from trades"
    table = SessionTable("T", "regular", [START + M], [START + 10 * M], ["2023-11-14"],
                         [START + M], [START + 10 * M], [0])  # fmt: skip
    outside = check_bar(bar(), None, CONFIG, cut_for("1m", table))
    assert outside is not None
    assert (outside.reason, outside.detail) == (
        "outside_session", f"bar AAA|1m|{START} starts outside every session"
    )  # fmt: skip
    assert check_bar(bar(start=START + M, end=START + 2 * M), None, CONFIG,
                     cut_for("1m", table)) is None  # fmt: skip


def test_a_range_exactly_at_the_tolerance_holds() -> None:
    low = 10.0 * (1 + OHLC_TOLERANCE)
    assert check_bar(bar(open=10.0, close=10.5, low=low), START - M, CONFIG) is None
    high = 11.0 * (1 - OHLC_TOLERANCE)
    assert check_bar(bar(open=10.0, close=11.0, high=high), START - M, CONFIG) is None


@pytest.mark.parametrize(
    "noisy",
    [
        bar(open=math.nextafter(9.0, 0.0), low=9.0),  # the open under the low
        bar(close=11.0 * (1 + 4e-16), high=11.0),  # only the high moves
    ],
)
def test_widening_takes_the_open_and_close_each_way(noisy: Bar) -> None:
    fixed = widened(noisy)
    assert fixed.low == min(noisy.low, noisy.open, noisy.close)
    assert fixed.high == max(noisy.high, noisy.open, noisy.close)
    assert fixed != noisy
    already = bar()
    assert widened(already) is already
