"""The feed's cancels and corrections of earlier trades: the bars they leave equal the bars of
the trades that stand, by the vendor's rules, computed independently (pandas)."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.ingest import StepOutput, SymbolState, step
from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.quality import EventGate, GateConfig
from marketpulse.analytics.step_io import MemoryStore, Message
from marketpulse.analytics.steps import apply_frame
from marketpulse.analytics.ticks import CancelTick, CorrectionTick, ticks_of
from marketpulse.conditions import mark, shipped
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Event, Frame, Trade, TradeCancel, TradeCorrection
from marketpulse.settings import Settings
from tests.unit.analytics.test_condition_bars import (
    AVERAGE,
    ODD_LOT,
    OUT_OF_SEQUENCE,
    PRIOR,
    REGULAR,
    SEQUENCE,
    SWEEP,
    expected_bars,
)

S = 1_000_000_000
M = 60 * S
T0 = 1_700_000_040 * S  # a minute boundary
FAR = 1 << 62
GRANULARITIES = {"1m": M, "5m": 5 * M}
LATENESS = {"1m": 5 * M, "5m": 10 * M}
WINDOW = 20 * M
CONFIG = GateConfig(lateness=tuple(LATENESS.items()), cancel_window_ns=WINDOW)

Row = tuple[int, float, float, list[int]]


def trade(row: Row, trade_id: str) -> Trade:
    ts, price, size, codes = row
    return Trade(symbol="AAPL", ts=ts, price=price, size=size, conditions=list(codes),
                 source="polygon", id=trade_id)  # fmt: skip


def cancel(ts: int, trade_id: str, trade_ts: int) -> TradeCancel:
    return TradeCancel(symbol="AAPL", ts=ts, trade_id=trade_id, trade_ts=trade_ts,
                       source="polygon")  # fmt: skip


def correction(ts: int, trade_id: str, row: Row) -> TradeCorrection:
    trade_ts, price, size, codes = row
    return TradeCorrection(symbol="AAPL", ts=ts, trade_id=trade_id, trade_ts=trade_ts,
                           price=price, size=size, conditions=list(codes),
                           source="polygon")  # fmt: skip


class Feed:
    """One symbol's frames through the pure step, each bar's latest revision kept, and the
    state read back from bytes whenever asked (as after a restart)."""

    def __init__(self, config: GateConfig = CONFIG) -> None:
        self.config = config
        self.state = SymbolState.new("AAPL", config, GRANULARITIES)
        self.stream_time = 0
        self.latest: dict[tuple[str, int], Bar] = {}
        self.refused: list[tuple[str, str]] = []

    def send(self, events: list[Event], restart: bool = False) -> StepOutput:
        marked = mark(events, shipped("polygon"))
        now = max(e.ts for e in events) + S
        frame = ticks_of(Frame(source="polygon", received_ts=now, events=marked))
        self.stream_time, out = step(self.state, frame, "AAPL", self.stream_time, now, 2 * S)
        for bar in out.bars:
            key = (bar.granularity, bar.start)
            kept = self.latest.get(key)
            assert kept is None or bar.revision > kept.revision, key
            self.latest[key] = bar
        self.refused += [(verdict.reason, verdict.detail) for _, verdict in out.rejected]
        if restart:
            data = self.state.to_bytes()
            self.state = SymbolState.from_bytes(data, self.config, GRANULARITIES)
        return out

    def close_all(self) -> None:
        for bar in self.state.bars.close(FAR, 0):
            self.latest[(bar.granularity, bar.start)] = bar

    def bars(self, granularity: str) -> list[dict[str, Any]]:
        return [
            {"start": b.start, "open": b.open, "close": b.close, "high": b.high, "low": b.low,
             "volume": b.volume, "trades": b.trades, "vwap": b.vwap}
            for (g, _), b in sorted(self.latest.items()) if g == granularity
        ]  # fmt: skip


def assert_bars_equal(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert [g["start"] for g in got] == [w["start"] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w, rel=1e-12), g["start"]


def test_the_vendor_sequence_with_cancels_and_corrections_gives_the_bars_of_what_stands() -> None:
    """Cancelled: the first minute's open and its out-of-sequence high, the second minute's
    close; corrected: the first minute's close (a new price and size) and an odd lot made
    regular; cancelled while its bar is open: the last minute's only trade."""
    ids = [f"t{i}" for i in range(len(SEQUENCE))]
    feed = Feed()
    feed.send([trade(row, i) for row, i in zip(SEQUENCE[:8], ids[:8], strict=True)])
    feed.send([trade(row, i) for row, i in zip(SEQUENCE[8:12], ids[8:12], strict=True)])
    assert feed.latest[("1m", T0)].revision == 0  # the first minute has closed
    at = SEQUENCE[11][0]
    corrected_close = (SEQUENCE[6][0], 100.2, 300.0, REGULAR)
    feed.send([cancel(at, "t0", SEQUENCE[0][0]), cancel(at, "t4", SEQUENCE[4][0]),
               correction(at, "t6", corrected_close)], restart=True)  # fmt: skip
    assert feed.latest[("1m", T0)].revision == 1  # published again, all three in one revision
    later = SEQUENCE[12][0]
    regular_lot = (SEQUENCE[8][0], 100.3, 10.0, REGULAR)
    feed.send([trade(SEQUENCE[12], "t12"), trade(SEQUENCE[13], "t13"),
               cancel(later, "t11", SEQUENCE[11][0]),
               correction(later, "t8", regular_lot)])  # fmt: skip
    feed.send([trade(SEQUENCE[14], "t14")])
    feed.send([cancel(SEQUENCE[14][0] + S, "t14", SEQUENCE[14][0])], restart=True)
    feed.close_all()
    standing = [row for i, row in enumerate(SEQUENCE) if i not in (0, 4, 11, 14)]
    standing[standing.index(SEQUENCE[6])] = corrected_close
    standing[standing.index(SEQUENCE[8])] = regular_lot
    want = expected_bars(standing)
    assert_bars_equal(feed.bars("1m"), want)
    assert_bars_equal(feed.bars("5m"), expected_bars(standing, 5 * M))
    first = feed.bars("1m")[0]
    # the open is now the sweep, the high falls back to it, the close is the corrected one
    assert (first["open"], first["high"], first["close"]) == (100.5, 100.5, 100.2)
    assert T0 + 3 * M not in [b["start"] for b in want]  # its only opener cancelled: no bar
    assert feed.state.bars.take_unopened() == 1  # it closed unpublished, counted
    assert feed.refused == []


def test_a_cancel_names_a_kept_trade_by_id_and_time_or_is_refused_leaving_the_bars() -> None:
    feed = Feed()
    feed.send([trade((T0 + S, 10.0, 5, REGULAR), "a"), trade((T0 + S, 11.0, 5, REGULAR), "b")])
    before = orjson.dumps(feed.state.bars.state())
    out = feed.send([cancel(T0 + 2 * S, "a", T0 + 2 * S), cancel(T0 + 2 * S, "zz", T0 + S),
                     cancel(T0 + 2 * S, "b", T0 + 3 * S)])  # fmt: skip
    assert [verdict.reason for _, verdict in out.rejected] == ["unknown_trade"] * 2 + [
        "announced_early"
    ]
    assert out.rejected[0][1].detail == (
        f"cancel names no trade 'a' at ts {T0 + 2 * S} among the trades kept (1200000 ms of "
        "cancel window)"
    )
    assert (
        out.rejected[2][1].detail == f"announced at ts {T0 + 2 * S}, of a trade at ts {T0 + 3 * S}"
    )
    assert orjson.dumps(feed.state.bars.state()) == before
    out = feed.send([cancel(T0 + 3 * S, "b", T0 + S), cancel(T0 + 3 * S, "b", T0 + S)])
    assert [verdict.reason for _, verdict in out.rejected] == ["duplicate"]
    feed.close_all()
    assert [(b["open"], b["volume"], b["trades"]) for b in feed.bars("1m")] == [(10.0, 5.0, 1)]


def test_a_trade_older_than_the_window_is_settled_and_no_cancel_reaches_it() -> None:
    config = GateConfig(lateness=tuple(LATENESS.items()), cancel_window_ns=2 * M)
    feed = Feed(config)
    feed.send([trade((T0 + S, 10.0, 5, REGULAR), "a"), trade((T0 + 2 * S, 12.0, 5, REGULAR), "b")])
    feed.send([trade((T0 + 3 * M, 11.0, 1, REGULAR), "c")], restart=True)
    assert [t[4] for t in feed.state.bars.trades] == ["c"]  # a and b have left the window
    (settled,) = [s for s in feed.state.bars.settled["5m"] if s[0] == T0 - T0 % (5 * M)]
    assert (settled[1], settled[2], settled[5]) == (10.0, 12.0, 10.0)  # open, high, volume
    out = feed.send([cancel(T0 + 3 * M + S, "b", T0 + 2 * S)])
    assert [verdict.reason for _, verdict in out.rejected] == ["unknown_trade"]
    # a cancel of the trade still kept rebuilds the 5m bar from the settled part and the rest
    feed.send([cancel(T0 + 3 * M + 2 * S, "c", T0 + 3 * M)])
    feed.close_all()
    assert [(b["open"], b["high"], b["close"], b["volume"]) for b in feed.bars("5m")] == [
        (10.0, 12.0, 12.0, 10.0)
    ]


def test_a_bar_past_its_lateness_keeps_its_last_revision_and_the_others_are_revised() -> None:
    config = GateConfig(lateness=(("5m", 10 * M),), cancel_window_ns=WINDOW)
    feed = Feed(config)
    feed.send([trade((T0 + S, 10.0, 5, REGULAR), "a"), trade((T0 + 2 * S, 12.0, 5, REGULAR), "b")])
    feed.send([trade((T0 + M + 5 * S, 11.0, 1, REGULAR), "c")])
    minute = feed.latest[("1m", T0)]
    out = feed.send([cancel(T0 + M + 6 * S, "b", T0 + 2 * S),
                     correction(T0 + M + 6 * S, "a", (T0 + S, 10.5, 6.0, REGULAR))])  # fmt: skip
    assert feed.latest[("1m", T0)] == minute  # 1m allows no lateness: closed for good
    assert out.too_late == 2  # once for each
    five = feed.latest[("5m", T0 - T0 % (5 * M))]  # T0 is a minute before a 5m boundary
    assert (five.high, five.close, five.volume, five.revision) == (10.5, 10.5, 6.0, 1)


def test_without_a_window_nothing_is_kept_and_every_amendment_is_refused() -> None:
    feed = Feed(GateConfig())
    feed.send([trade((T0 + S, 10.0, 5, REGULAR), "a")])
    assert "trades" not in feed.state.bars.state()
    out = feed.send([cancel(T0 + 2 * S, "a", T0 + S),
                     correction(T0 + 2 * S, "a", (T0 + S, 9.0, 5, REGULAR))])  # fmt: skip
    assert [verdict.reason for _, verdict in out.rejected] == ["unknown_trade"] * 2
    assert "(0 ms of cancel window)" in out.rejected[0][1].detail


def test_a_correction_s_price_is_checked_as_a_trade_s() -> None:
    gate = EventGate(CONFIG)
    bad = CorrectionTick("AAPL", T0 + S, "a", T0, None, 5.0)
    negative = CorrectionTick("AAPL", T0 + S, "a", T0, 10.0, -5.0)
    assert gate.check(bad, T0, T0 + S) is not None
    assert [gate.check(e, T0, T0 + S).reason for e in (bad, negative)] == [  # type: ignore[union-attr]
        "bad_price", "negative_size",
    ]  # fmt: skip
    late = CancelTick("AAPL", T0, "a", T0)
    verdict = gate.check(late, T0 + 30 * M, T0 + 30 * M)
    assert verdict is not None
    assert verdict.reason == "late"
    ahead = CancelTick("AAPL", T0 + M, "a", T0)
    verdict = gate.check(ahead, T0, T0)
    assert verdict is not None
    assert verdict.reason == "future_timestamp"


@pytest.mark.parametrize("seed", range(6))
def test_random_amendments_leave_the_bars_of_the_trades_that_stand(seed: int) -> None:
    """Trades over half an hour in frames of a few seconds, some out of order within the grace
    period, of every kind of condition; after each frame some earlier trade still revisable is
    cancelled or corrected (the first of each minute stays, so that every minute has a bar);
    every third frame the state is read back from bytes."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    kinds = [REGULAR, REGULAR, REGULAR, ODD_LOT, AVERAGE, OUT_OF_SEQUENCE, PRIOR, SWEEP]
    feed = Feed()
    standing: dict[str, Row] = {}
    anchors: set[str] = set()
    price, now = 100.0, T0
    for frame_index in range(240):
        events: list[Event] = []
        for _ in range(rng.randint(1, 4)):
            now += rng.randint(1, 4) * S // 2
            price = round(price * (1 + rng.uniform(-0.002, 0.002)), 4)
            ts = now - rng.randint(0, S)  # up to a second out of order: within the grace
            new_minute = not any(r[0] // M == ts // M for r in standing.values())
            row = (
                ts,
                price,
                float(rng.randint(1, 400)),
                REGULAR if new_minute else rng.choice(kinds),
            )
            trade_id = f"x{len(standing)}-{len(anchors)}-{frame_index}-{len(events)}"
            standing[trade_id] = row
            if new_minute:
                anchors.add(trade_id)
            events.append(trade(row, trade_id))
        revisable = [i for i, r in standing.items() if i not in anchors
                     and r[0] - r[0] % M + M + 2 * S + LATENESS["1m"] > now + S]  # fmt: skip
        if revisable and rng.random() < 0.5:
            target = rng.choice(revisable)
            ts = standing[target][0]
            if rng.random() < 0.5:
                events.append(cancel(now, target, ts))
                del standing[target]
            else:
                fixed = (ts, round(standing[target][1] * rng.uniform(0.99, 1.01), 4),
                         float(rng.randint(1, 400)), rng.choice(kinds))  # fmt: skip
                events.append(correction(now, target, fixed))
                standing[target] = fixed
        feed.send(events, restart=frame_index % 3 == 2)
    feed.close_all()
    assert feed.refused == []
    rows = list(standing.values())
    for name, length in GRANULARITIES.items():
        assert_bars_equal(feed.bars(name), expected_bars(rows, length))
    assert max(b.revision for b in feed.latest.values()) > 0


def test_cancels_and_corrections_reach_the_bars_through_the_worker_s_step() -> None:
    """The frame step that a worker runs: the cancel goes on to market.clean as it came, and the
    revised bar goes out again a revision higher."""
    settings = Settings(granularities=["1m"], allowed_lateness_ms={"1m": 300_000},
                        cancel_window_ms=600_000)  # fmt: skip
    config = settings.step_config()
    store, time_ = MemoryStore(), PartitionTime()

    def send(offset: int, events: list[Event]) -> list[Any]:
        now = max(e.ts for e in events) + S
        frame = Frame(source="polygon", received_ts=now, events=events)
        message = Message("market.raw", 0, offset, b"AAPL", frame.model_dump_json().encode())
        out = apply_frame(store, time_, message, now, config)
        store.write(out)
        return out.sends

    send(0, [trade((T0 + S, 10.0, 5, REGULAR), "a"), trade((T0 + 2 * S, 12.0, 5, REGULAR), "b")])
    first = send(1, [trade((T0 + M + 5 * S, 11.0, 1, REGULAR), "c")])
    (bar,) = [s.record for s in first if isinstance(s.record, Bar)]
    assert (bar.high, bar.revision) == (12.0, 0)
    sends = send(2, [cancel(T0 + M + 6 * S, "b", T0 + 2 * S)])
    (clean,) = [s.record for s in sends if s.topic == "market.clean"]
    assert orjson.loads(clean)["events"][0]["kind"] == "cancel"  # type: ignore[arg-type]
    (revised,) = [s.record for s in sends if isinstance(s.record, Bar)]
    assert (revised.start, revised.high, revised.volume, revised.revision) == (T0, 10.0, 5.0, 1)
    snapshots = [s for s in sends if s.topic == "analytics.indicators"]
    assert snapshots  # the series is recomputed from the revised bar


def test_the_builder_s_kept_trades_round_trip_and_a_state_without_them_reads() -> None:
    builder = BarBuilder("AAPL", GRANULARITIES, LATENESS, WINDOW)
    builder.add_trade(T0 + S, 10.0, 5.0, trade_id="a")
    state = orjson.loads(orjson.dumps(builder.state()))
    again = BarBuilder.from_state(GRANULARITIES, state, LATENESS, WINDOW)
    assert again.state() == builder.state()
    assert again.amend(T0 + S, "a", None)
    plain = BarBuilder.from_state(GRANULARITIES, {"symbol": "AAPL", "open": {}}, LATENESS, WINDOW)
    assert plain.trades == []
    assert plain.settled == {"1m": [], "5m": []}
    unkept = BarBuilder.from_state(GRANULARITIES, state, LATENESS)  # by default none kept
    assert "trades" not in unkept.state()


def test_a_bar_rebuilt_after_its_first_trades_settled_takes_late_ones_in_their_place() -> None:
    """Minute 0's trades leave the window (with the trade that opens minute 1, at its very
    start, in the same step); two late trades of minute 0 come, one earlier than its close, and
    one of them is cancelled: the bar is what settled and the late one that stands. A late
    trade in a minute that had none makes its bar, which settles in turn."""
    config = GateConfig(lateness=tuple(LATENESS.items()), cancel_window_ns=2 * M)
    feed = Feed(config)
    rows = {"a": (T0 + S, 10.0, 5.0, REGULAR), "b": (T0 + 50 * S, 12.0, 5.0, REGULAR),
            "c": (T0 + M, 11.0, 5.0, REGULAR), "d": (T0 + 3 * M + 10 * S, 11.5, 1.0, REGULAR),
            "e": (T0 + 40 * S, 9.5, 2.0, REGULAR), "f": (T0 + 45 * S, 9.7, 3.0, REGULAR),
            "g": (T0 + 2 * M + 5 * S, 11.2, 4.0, REGULAR),
            "h": (T0 + 6 * M + 10 * S, 11.4, 1.0, REGULAR)}  # fmt: skip
    feed.send([trade(rows[i], i) for i in "abc"])
    feed.send([trade(rows["d"], "d")])  # a, b and c leave the window
    assert [t[4] for t in feed.state.bars.trades] == ["d"]
    feed.send([trade(rows["e"], "e"), trade(rows["f"], "f"), trade(rows["g"], "g"),
               cancel(rows["d"][0] + S, "f", rows["f"][0])])  # fmt: skip
    feed.send([trade(rows["h"], "h")])  # g leaves the window in turn
    feed.close_all()
    standing = [rows[i] for i in "abcdegh"]
    assert_bars_equal(feed.bars("1m"), expected_bars(standing))
    assert_bars_equal(feed.bars("5m"), expected_bars(standing, 5 * M))
    assert feed.latest[("1m", T0)].close == 12.0  # b's: the late e is earlier


def test_a_late_trade_that_makes_a_closed_interval_s_bar_can_be_corrected() -> None:
    feed = Feed()
    feed.send([trade((T0 + S, 10.0, 5, REGULAR), "a")])
    feed.send([trade((T0 + 2 * M + 9 * S, 11.0, 5, REGULAR), "b")])  # the minute between: none
    feed.send([trade((T0 + M + S, 12.0, 5, REGULAR), "late")])  # makes that minute's bar
    assert feed.latest[("1m", T0 + M)].revision == 0
    feed.send([correction(T0 + 2 * M + 9 * S, "late", (T0 + M + S, 12.5, 6.0, REGULAR))])
    bar = feed.latest[("1m", T0 + M)]
    assert (bar.open, bar.close, bar.volume, bar.revision) == (12.5, 12.5, 6.0, 1)


def test_a_rebuilt_bar_keeps_the_arrival_order_of_trades_of_one_time() -> None:
    """Two prints of one time: the first to come opens the bar, the last closes it, rebuilt or
    not."""
    feed = Feed()
    feed.send([trade((T0 + S, 11.0, 1.0, REGULAR), "x"), trade((T0 + S, 10.0, 1.0, REGULAR), "y"),
               trade((T0 + 2 * S, 12.0, 1.0, REGULAR), "z")])  # fmt: skip
    feed.send([cancel(T0 + 3 * S, "z", T0 + 2 * S)])
    feed.close_all()
    (bar,) = feed.bars("1m")
    assert (bar["open"], bar["close"], bar["volume"]) == (11.0, 10.0, 2.0)


def test_a_bar_that_closed_at_this_very_stream_time_is_revised_not_made_again() -> None:
    feed = Feed()
    feed.send(
        [trade((T0 + S, 10.0, 1.0, REGULAR), "a"), trade((T0 + 2 * S, 12.0, 1.0, REGULAR), "b")]
    )
    feed.send([trade((T0 + M + 2 * S, 11.0, 1.0, REGULAR), "c")])  # stream time: end + grace
    assert feed.latest[("1m", T0)].revision == 0
    feed.send([cancel(T0 + M + 2 * S, "b", T0 + 2 * S)])  # stream time as it was
    bar = feed.latest[("1m", T0)]
    assert (bar.close, bar.revision) == (10.0, 1)


def test_the_forming_bar_is_the_one_that_closes_next_whatever_came_first() -> None:
    builder = BarBuilder("AAPL", {"1m": M})
    builder.add_trade(T0 + M + S, 11.0, 1.0)  # the next minute first...
    builder.add_trade(T0 + M - S, 10.0, 1.0)  # ...then, within the grace, this one
    (forming,) = builder.forming()
    assert (forming["start"], forming["close"]) == (T0, 10.0)
