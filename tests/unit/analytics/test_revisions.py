"""Revisions: a granularity that allows lateness re-opens a closed bar for a late trade and
publishes it again a revision higher; its series rolls back and recomputes from it on."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.conditions import VOLUME
from marketpulse.analytics.granularity import kept_bars
from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.patterns.detector import DetectorConfig
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.sessions import cut_for
from marketpulse.analytics.step_io import MemoryStore, Message, StepConfig, StepOutputs
from marketpulse.analytics.steps import apply_frame, apply_ready_made_bar
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.signals import Signal
from marketpulse.settings import Settings

S = 1_000_000_000
M = 60 * S
T0 = 1_700_000_040 * S  # a minute boundary
GRACE = 2 * S
NOW = T0 + 10**6 * S  # the wall clock, far ahead: no event is in the future


def test_a_late_trade_within_the_lateness_revises_its_closed_bar() -> None:
    builder = BarBuilder("X", {"1m": M}, {"1m": 5 * M})
    builder.add_trade(T0 + 10 * S, 10.0, 1.0)
    builder.add_trade(T0 + M + 10 * S, 11.0, 1.0)
    (first,) = builder.close(T0 + M + 10 * S, GRACE)
    assert (first.start, first.revision, first.high, first.volume) == (T0, 0, 10.0, 1.0)
    # three minutes on, a trade of the first minute: the bar comes again, revision 1
    builder.add_trade(T0 + 4 * M, 11.5, 1.0)
    assert builder.close(T0 + 4 * M, GRACE)[0].start == T0 + M
    builder.add_trade(T0 + 30 * S, 12.0, 2.0)
    (revised,) = builder.close(T0 + 4 * M, GRACE)
    assert (revised.start, revised.revision) == (T0, 1)
    assert (revised.open, revised.high, revised.close, revised.volume) == (10.0, 12.0, 12.0, 3.0)
    assert revised.trades == 2
    # and again: revision 2, each revision once however many trades a frame brings
    builder.add_trade(T0 + 5 * S, 9.0, 1.0)
    builder.add_trade(T0 + 50 * S, 9.5, 1.0)
    (again,) = builder.close(T0 + 4 * M, GRACE)
    assert (again.revision, again.open, again.low, again.close) == (2, 9.0, 9.0, 9.5)


def test_a_late_trade_in_an_interval_that_had_none_makes_its_bar_at_revision_0() -> None:
    builder = BarBuilder("X", {"1m": M}, {"1m": 5 * M})
    builder.add_trade(T0 + 10 * S, 10.0, 1.0)
    builder.add_trade(T0 + 3 * M, 11.0, 1.0)
    assert [b.start for b in builder.close(T0 + 3 * M, GRACE)] == [T0]
    builder.add_trade(T0 + M + 1 * S, 10.5, 1.0)
    (made,) = builder.close(T0 + 3 * M, GRACE)
    assert (made.start, made.revision, made.close) == (T0 + M, 0, 10.5)
    builder.add_trade(T0 + M + 2 * S, 10.7, 1.0)
    (again,) = builder.close(T0 + 3 * M, GRACE)
    assert (again.start, again.revision, again.close) == (T0 + M, 1, 10.7)


def test_past_the_lateness_a_trade_reaches_no_bar_of_that_granularity() -> None:
    builder = BarBuilder("X", {"1m": M, "5m": 5 * M}, {"5m": 10 * M})
    builder.add_trade(T0 + 10 * S, 10.0, 1.0)
    builder.add_trade(T0 + 6 * M, 11.0, 1.0)
    builder.close(T0 + 6 * M, GRACE)
    # a trade of the first minute: too late for 1m (no lateness), in time for the 5m bar
    first_five = T0 - T0 % (5 * M)
    builder.add_trade(T0 + 20 * S, 14.0, 1.0)
    revised = builder.close(T0 + 6 * M, GRACE)
    assert [(b.granularity, b.start, b.revision, b.high) for b in revised] == [
        ("5m", first_five, 1, 14.0)
    ]
    assert builder.take_too_late() == 1
    assert builder.take_too_late() == 0
    # once stream time is past the 5m bar's end by grace and lateness, it is let go too
    builder.add_trade(first_five + 16 * M, 12.0, 1.0)
    builder.close(first_five + 16 * M, GRACE)
    builder.add_trade(T0 + 30 * S, 15.0, 1.0)
    assert builder.close(first_five + 16 * M, GRACE) == []
    assert builder.take_too_late() == 2


def test_a_bar_closed_exactly_at_the_horizon_is_revised_not_opened_again() -> None:
    """Stream time lands exactly on the bar's end plus grace: the bar has closed, so a trade
    for it within the lateness revises it, and is not a new bar of the same start."""
    builder = BarBuilder("X", {"1m": M}, {"1m": 5 * M})
    builder.add_trade(T0 + 10 * S, 10.0, 1.0)
    builder.add_trade(T0 + M + GRACE, 11.0, 1.0)
    (first,) = builder.close(T0 + M + GRACE, GRACE)
    assert (first.start, builder.horizon) == (T0, T0 + M)
    builder.add_trade(T0 + 40 * S, 12.0, 1.0)
    (revised,) = builder.close(T0 + M + GRACE, GRACE)
    assert (revised.start, revised.revision, revised.final) == (T0, 1, True)
    assert revised.high == 12.0
    assert builder.forming()[0]["start"] == T0 + M  # the open bar is the next minute's only


def test_the_lateness_ends_exactly_at_end_plus_grace_plus_lateness() -> None:
    builder = BarBuilder("X", {"1m": M}, {"1m": 2 * M})
    builder.add_trade(T0 + 10 * S, 10.0, 1.0)
    builder.add_trade(T0 + 3 * M - S, 11.0, 1.0)
    builder.close(T0 + 3 * M - S + GRACE, GRACE)  # horizon one second before end + lateness
    assert [bar[0] for bar in builder.state()["closed"]["1m"]] == [T0]
    builder.add_trade(T0 + 20 * S, 12.0, 1.0)
    assert [b.revision for b in builder.close(T0 + 3 * M - S + GRACE, GRACE)] == [1]
    builder.add_trade(T0 + 3 * M, 11.5, 1.0)
    builder.close(T0 + 3 * M + GRACE, GRACE)  # horizon at end + lateness: the bar is let go
    assert [bar[0] for bar in builder.state()["closed"]["1m"]] == [T0 + 2 * M]
    builder.add_trade(T0 + 30 * S, 13.0, 1.0)
    assert builder.close(T0 + 3 * M + GRACE, GRACE) == []
    assert builder.take_too_late() == 1


def test_a_closed_bar_no_trade_could_open_is_published_first_at_revision_0() -> None:
    """Odd lots only: the bar closes unpublished; a late trade that may set the last sale
    opens it, and that is its first publication."""
    builder = BarBuilder("X", {"1m": M}, {"1m": 5 * M})
    builder.add_trade(T0 + 10 * S, 10.0, 5.0, VOLUME)
    builder.add_trade(T0 + M + 10 * S, 11.0, 100.0)
    assert builder.close(T0 + M + 10 * S, GRACE) == []
    assert builder.take_unopened() == 1
    builder.add_trade(T0 + 20 * S, 10.5, 100.0)
    (opened,) = builder.close(T0 + M + 10 * S, GRACE)
    assert (opened.start, opened.revision, opened.open, opened.volume) == (T0, 0, 10.5, 105.0)


def test_revisions_of_one_frame_come_oldest_first_whatever_their_granularity() -> None:
    builder = BarBuilder("X", {"1m": M, "5m": 5 * M}, {"1m": 10 * M, "5m": 10 * M})
    five = T0 - T0 % (5 * M)
    builder.add_trade(five + 4 * M + S, 10.0, 1.0)
    builder.add_trade(five + 6 * M + S, 10.0, 1.0)
    builder.add_trade(five + 8 * M, 10.0, 1.0)
    builder.close(five + 8 * M, GRACE)
    builder.add_trade(five + 6 * M + 2 * S, 11.0, 1.0)  # the second minute bar, and no 5m one
    builder.add_trade(five + 4 * M + 2 * S, 12.0, 1.0)  # the first 1m and the first 5m
    revised = builder.close(five + 8 * M, GRACE)
    assert [(b.granularity, b.start) for b in revised] == [
        ("5m", five), ("1m", five + 4 * M), ("1m", five + 6 * M)
    ]  # fmt: skip


def test_only_the_configured_granularities_with_lateness_keep_closed_bars() -> None:
    builder = BarBuilder("X", {"1m": M}, {"5m": 5 * M, "1m": 0})
    assert builder.closed == {}
    assert set(builder.state()) == {"symbol", "open"}
    tiny = BarBuilder("X", {"1m": M}, {"1m": 1})
    assert tiny.lateness == {"1m": 1}
    assert set(tiny.state()) == {"symbol", "open", "closed", "horizon"}


def test_no_bar_is_forming_once_every_bar_has_closed() -> None:
    builder = BarBuilder("X", {"1m": M, "t3": cut_for("t3", None)})
    builder.add_trade(T0 + 10 * S, 10.0, 1.0)
    builder.close(T0 + 10 * S, GRACE)
    assert [b["granularity"] for b in builder.forming()] == ["1m"]  # not the trade bar
    builder.close(T0 + 2 * M, GRACE)
    assert builder.forming() == []


def test_without_lateness_nothing_is_kept_and_the_state_is_as_before() -> None:
    builder = BarBuilder("X", {"1m": M})
    builder.add_trade(T0 + 10 * S, 10.0, 1.0)
    builder.close(T0 + 2 * M, GRACE)
    assert builder.closed == {}
    assert set(builder.state()) == {"symbol", "open"}


def test_the_closed_bars_and_horizon_survive_a_restore() -> None:
    cuts, lateness = {"1m": M}, {"1m": 5 * M}
    builder = BarBuilder("X", cuts, lateness)
    builder.add_trade(T0 + 10 * S, 10.0, 1.0)
    builder.add_trade(T0 + 2 * M, 11.0, 1.0)
    builder.close(T0 + 2 * M, GRACE)
    restored = BarBuilder.from_state(cuts, orjson.loads(orjson.dumps(builder.state())), lateness)
    restored.add_trade(T0 + 20 * S, 13.0, 1.0)
    (revised,) = restored.close(T0 + 2 * M, GRACE)
    assert (revised.start, revised.revision, revised.high) == (T0, 1, 13.0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=40 * S),  # gap to the previous trade
            st.integers(min_value=0, max_value=6 * M),  # how late it arrives
            st.floats(min_value=1, max_value=500, allow_nan=False),
            st.floats(min_value=0, max_value=1e3, allow_nan=False),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_the_latest_revision_of_every_bar_equals_a_batch_over_the_trades_taken(
    steps: list[tuple[int, int, float, float]],
) -> None:
    """Trades arriving out of order: a trade within grace and lateness is taken (later ones
    the gate refuses), and the last revision of each bar equals pandas over the taken trades
    in event-time order."""
    lateness = 3 * M
    cuts = {"1m": M, "5m": 5 * M}
    ts, trades = T0, []
    for gap, delay, price, size in steps:
        ts += gap
        trades.append((ts + delay, ts, price, size))
    trades.sort(key=lambda trade: trade[0])  # by arrival; ties in the order they were made
    builder = BarBuilder("X", cuts, dict.fromkeys(cuts, lateness))
    latest: dict[tuple[str, int], Bar] = {}
    stream_time, taken = 0, []
    for _, ts, price, size in trades:
        if ts < stream_time - GRACE - lateness:
            continue  # the gate's late refusal
        taken.append((ts, price, size))
        builder.add_trade(ts, price, size)
        stream_time = max(stream_time, ts)
        for bar in builder.close(stream_time, GRACE):
            previous = latest.get((bar.granularity, bar.start))
            assert bar.revision == (0 if previous is None else previous.revision + 1)
            latest[(bar.granularity, bar.start)] = bar
    for bar in builder.close(stream_time + 10 * M, GRACE):
        latest[(bar.granularity, bar.start)] = bar
    assert builder.take_too_late() == 0

    frame = pd.DataFrame(taken, columns=["ts", "price", "size"]).sort_values("ts", kind="stable")
    for name, length in cuts.items():
        frame["start"] = frame["ts"] - frame["ts"] % length
        grouped = frame.groupby("start")
        ours = {start: bar for (g, start), bar in latest.items() if g == name}
        assert sorted(ours) == list(grouped.groups)
        for start, rows in grouped:
            bar = ours[int(start)]
            prices = rows["price"].tolist()
            assert (bar.open, bar.high, bar.low, bar.close) == (
                prices[0], max(prices), min(prices), prices[-1]
            )  # fmt: skip
            assert bar.volume == pytest.approx(rows["size"].sum(), rel=1e-12, abs=1e-9)
            assert bar.trades == len(rows)


def walk(count: int, seed: int = 11) -> list[Bar]:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, count)))
    bars, previous = [], 100.0
    for i, close in enumerate(closes.tolist()):
        high = max(previous, close) * (1 + abs(rng.normal(0, 0.004)))
        low = min(previous, close) * (1 - abs(rng.normal(0, 0.004)))
        bars.append(Bar(symbol="X", granularity="1m", start=T0 + i * M, end=T0 + (i + 1) * M,
                        open=previous, high=high, low=low, close=close,
                        volume=float(rng.integers(1, 5_000))))  # fmt: skip
        previous = close
    return bars


def _replay(bars: list[Bar]) -> tuple[list[dict[str, float]], dict[str, Signal]]:
    """A series that saw only ``bars``: each snapshot's values, and every signal by key."""
    settings_ = Settings()
    fresh = SeriesState.new(settings_.indicators, settings_.detector_config())
    values, signals = [], {}
    for bar in bars:
        snapshot, fired = fresh.advance(bar)
        values.append(snapshot.values)
        signals.update({signal.key(): signal for signal in fired})
    return values, signals


@pytest.mark.parametrize("revised_at", [290, 295, 299])
def test_a_revised_bar_rolls_its_series_back_and_equals_a_batch_over_the_corrected_bars(
    revised_at: int,
) -> None:
    settings_ = Settings()
    config = settings_.detector_config()
    keep = kept_bars(10 * M, M)
    bars = walk(300)
    series = SeriesState.new(settings_.indicators, config)
    published: dict[str, Signal] = {}
    for bar in bars:
        _, fired = series.advance(bar, keep)
        published.update({signal.key(): signal for signal in fired})
    assert len(series.history) == keep

    old = bars[revised_at]
    corrected = old.model_copy(
        update={"high": old.high * 1.05, "close": old.high * 1.04, "volume": old.volume * 3,
                "revision": 1}
    )  # fmt: skip
    bars[revised_at] = corrected
    revision = series.revise(corrected, config, keep)
    want_values, want_signals = _replay(bars)
    # every snapshot from the revised bar on is given again, equal to the batch's
    assert [s.bar_start for s in revision.snapshots] == [b.start for b in bars[revised_at:]]
    assert [s.values for s in revision.snapshots] == want_values[revised_at:]
    assert revision.snapshots[0].bar == corrected
    assert {s.revision for s in revision.snapshots} == {1}
    # the signals published, with the revision's new and withdrawn ones applied, are the batch's
    for signal in revision.signals:
        assert signal.revision == 1
        if signal.withdrawn:
            assert (
                published.pop(signal.key()).model_copy(update={"revision": 1, "withdrawn": True})
                == signal
            )
        else:
            published[signal.key()] = signal.model_copy(update={"revision": 0})
    assert published == want_signals
    # and the series goes on as one that saw the corrected bars from the start
    assert series.last_start == bars[-1].start
    assert series.to_bytes() != b""
    restored = SeriesState.from_bytes(config, series.to_bytes())
    following = walk(301)[-1]
    fresh = SeriesState.new(settings_.indicators, config)
    for bar in bars:
        fresh.advance(bar)
    assert restored.advance(following)[0] == fresh.advance(following)[0]


def test_a_revision_that_withdraws_and_fires_signals_says_so() -> None:
    """A bar made a bullish engulfing of the one before it, then revised into a plain bar."""
    settings_ = Settings()
    config = settings_.detector_config()
    series = SeriesState.new(settings_.indicators, config)
    bars = walk(40)
    down = bars[38].model_copy(update={"open": 101.0, "high": 101.2, "low": 98.8, "close": 99.0})
    engulfing = bars[39].model_copy(
        update={"open": 98.5, "high": 102.0, "low": 98.4, "close": 101.8}
    )
    for bar in [*bars[:38], down]:
        series.advance(bar, 4)
    _, fired = series.advance(engulfing, 4)
    assert "cdlengulfing" in {signal.name for signal in fired}
    plain = engulfing.model_copy(
        update={"open": 99.0, "high": 99.3, "low": 98.9, "close": 99.1, "revision": 1}
    )
    revision = series.revise(plain, config, 4)
    withdrawn = {s.name for s in revision.signals if s.withdrawn}
    assert "cdlengulfing" in withdrawn
    assert all(s.ts == engulfing.start and s.revision == 1 for s in revision.signals)
    # revising it back fires it again, at revision 2
    again = series.revise(engulfing.model_copy(update={"revision": 2}), config, 4)
    back = {s.name: s for s in again.signals}
    assert back["cdlengulfing"].revision == 2
    assert not back["cdlengulfing"].withdrawn


def _applied(specs: list[str], bars: list[Bar], keep: int) -> tuple[SeriesState, DetectorConfig]:
    """A series that has applied ``bars``, keeping the last ``keep``, and its detectors' config."""
    config = Settings().detector_config()
    series = SeriesState.new(specs, config)
    for bar in bars:
        series.advance(bar, keep)
    return series, config


def test_a_bar_older_than_every_bar_kept_cannot_be_revised() -> None:
    bars = walk(10)
    series, config = _applied(["sma_3"], bars, 3)
    assert [kept.bar.start for kept in series.history] == [b.start for b in bars[-3:]]
    old = bars[5].model_copy(update={"close": 1.0, "revision": 1})
    assert series.applied(old)  # past it for good: a redelivery of it is skipped
    with pytest.raises(ValueError, match="older than every bar the series keeps"):
        series.revise(old, config, 3)
    assert series.restates(old) is None
    # one kept: applied only at the revision it has or an older one
    kept = bars[8].model_copy(update={"close": bars[8].close + 1, "revision": 1})
    assert not series.applied(kept)
    assert series.restates(bars[8]) is None  # the same values: a duplicate
    assert series.restates(kept.model_copy(update={"revision": 0})) == kept
    assert series.revise(kept, config, 3).snapshots[0].bar == kept
    assert series.applied(kept)
    assert not series.applied(bars[9].model_copy(update={"revision": 1}))
    # a start between two kept bars is a bar the series never had: revision 0
    between = bars[8].model_copy(update={"start": bars[8].start + S, "end": bars[8].end + S})
    assert series.restates(between) == between
    assert not series.applied(between)


def test_the_oldest_kept_bar_and_the_gap_after_it_can_still_be_revised() -> None:
    bars = walk(10)
    series, config = _applied(["sma_3"], bars, 3)
    oldest = bars[7].model_copy(update={"close": bars[7].close + 1})
    assert series.restates(oldest) == oldest.model_copy(update={"revision": 1})
    # a bar between the two oldest kept ones is new, at revision 0 whatever the vendor said
    gap = bars[7].model_copy(update={"start": bars[7].start + S, "end": bars[7].end + S,
                                     "revision": 3})  # fmt: skip
    assert series.restates(gap) == gap.model_copy(update={"revision": 0})
    assert not series.applied(gap.model_copy(update={"revision": 0}))
    revised = oldest.model_copy(update={"revision": 1})
    assert series.revise(revised, config, 3).snapshots[0].bar == revised


def test_a_series_state_round_trips_with_its_history_roll_up_and_revisions() -> None:
    bars = walk(8)
    series, config = _applied(["sma_3"], bars[:6], 3)
    series.rollup = {"symbol": "X", "open": {"5m": []}}
    assert series.revise(bars[5].model_copy(update={"close": 1.0, "revision": 1}), config, 3)
    restored = SeriesState.from_bytes(config, series.to_bytes())
    assert [kept.bar for kept in restored.history] == [kept.bar for kept in series.history]
    assert [kept.before for kept in restored.history] == [kept.before for kept in series.history]
    assert (restored.rollup, restored.revisions, restored.last_start) == (
        series.rollup, 1, bars[5].start
    )  # fmt: skip
    assert restored.to_bytes() == series.to_bytes()
    # a state written as one document, before revisions (and roll-ups), decodes as one
    # without them
    head, detector = series.to_bytes().split(b"\n")
    old = {**orjson.loads(head), "detector": orjson.loads(detector)}
    for name in ("history", "revisions", "rollup"):
        del old[name]
    before = SeriesState.from_bytes(config, orjson.dumps(old))
    assert (before.history, before.revisions, before.rollup) == ([], 0, None)
    assert before.detector.state() == series.detector.state()
    # a series without lateness keeps no history at all
    plain, _ = _applied(["sma_3"], bars, 0)
    assert orjson.loads(plain.to_bytes().split(b"\n")[0])["history"] == []
    fresh = SeriesState.new(["sma_3"], config)
    for bar in bars:
        fresh.advance(bar)
    assert fresh.history == []


def test_what_a_revision_publishes_again_replaces_what_went_before_by_its_revision() -> None:
    """Each record published again carries the series' count of revisions: the snapshot of a
    bar comes again after a revision of an earlier bar and of its own, each time higher,
    though each of those bars is at its first revision."""
    bars = walk(6)
    series, config = _applied(["sma_2"], bars, 4)
    seen: dict[int, list[int]] = {}
    for at in (3, 4):
        revised = bars[at].model_copy(update={"close": bars[at].close + 1, "revision": 1})
        revision = series.revise(revised, config, 4)
        for snapshot in revision.snapshots:
            seen.setdefault(snapshot.bar_start, []).append(snapshot.revision)
    assert seen[bars[5].start] == [1, 2]
    assert seen[bars[3].start] == [1]
    restored = SeriesState.from_bytes(config, series.to_bytes())
    assert restored.revisions == 2


def test_the_bars_kept_cover_the_lateness_and_nothing_without_it() -> None:
    assert kept_bars(0, M) == 0
    assert kept_bars(1, M) == 3
    assert kept_bars(M, M) == 3
    assert kept_bars(M + 1, M) == 4
    assert kept_bars(-M, M) == 0


def test_settings_refuse_a_lateness_the_series_cannot_roll_back() -> None:
    with pytest.raises(ValueError, match="needs 12 bars kept per series"):
        Settings(allowed_lateness_ms={"1m": 10 * 60_000}, revision_max_bars=8)
    with pytest.raises(ValueError, match="not in MARKETPULSE_GRANULARITIES"):
        Settings(allowed_lateness_ms={"2m": 60_000})
    with pytest.raises(ValueError, match="close on a trade"):
        Settings(granularities=["1m", "t500"], allowed_lateness_ms={"t500": 60_000})
    settings_ = Settings(allowed_lateness_ms={"1m": 5 * 60_000, "5m": 0})
    assert settings_.step_config().kept_bars == {"1m": 7}
    assert settings_.gate_config().trade_lateness_ns == settings_.grace_ms * 10**6 + 5 * M


def _step_config(**changes: object) -> StepConfig:
    values = {"granularities": ["1m"], "allowed_lateness_ms": {"1m": 5 * 60_000}, **changes}
    return Settings(**values).step_config()  # type: ignore[arg-type]


def _frame(*trades: tuple[int, float]) -> bytes:
    events = [{"kind": "trade", "symbol": "AAPL", "ts": ts, "price": price, "size": 100.0}
              for ts, price in trades]  # fmt: skip
    return orjson.dumps({"source": "test", "received_ts": T0, "events": events})


def _sent(out: StepOutputs, topic: str) -> list[Any]:
    return [send.record for send in out.sends if send.topic == topic]


def test_a_late_trade_goes_through_the_frame_step_to_a_revised_bar_and_snapshots() -> None:
    cfg = _step_config(indicators=["sma_2"])
    store, time = MemoryStore(), PartitionTime()
    now = NOW

    def apply(offset: int, value: bytes) -> StepOutputs:
        message = Message("market.raw", 0, offset, b"AAPL", value)
        out = apply_frame(store, time, message, now, cfg)
        store.write(out)
        return out

    apply(1, _frame((T0 + 10 * S, 10.0)))
    apply(2, _frame((T0 + M + 10 * S, 12.0)))
    apply(3, _frame((T0 + 2 * M + 10 * S, 14.0)))
    # a trade of the first minute, two minutes late: past the grace period, within lateness
    out = apply(4, _frame((T0 + 50 * S, 16.0)))
    (bar,) = _sent(out, "market.bars.1m")
    assert (bar.start, bar.revision, bar.close, bar.high) == (T0, 1, 16.0, 16.0)
    snapshots = _sent(out, "analytics.indicators")
    assert [(s.bar_start, s.values.get("sma_2")) for s in snapshots] == [
        (T0, None), (T0 + M, 14.0)
    ]  # fmt: skip
    assert _sent(out, "market.deadletter") == []
    # the frame delivered again changes nothing
    again = apply_frame(store, time, Message("market.raw", 0, 4, b"AAPL", _frame()), now, cfg)
    assert again.redelivered == ["bars"]
    # later than grace and lateness: refused as late, as without lateness
    late = apply(5, _frame((T0 + 3 * M + 10 * S, 15.0), (T0 - 4 * M, 1.0)))
    (letter,) = _sent(late, "market.deadletter")
    assert letter.reason == "late"


def test_a_restated_ready_made_bar_is_published_again_and_its_series_recomputed() -> None:
    cfg = _step_config(indicators=["sma_2"])
    store = MemoryStore()

    def apply(offset: int, bar: Bar) -> StepOutputs:
        value = bar.model_dump_json().encode()
        out = apply_ready_made_bar(store, Message("bars", 0, offset, b"AAPL", value), cfg)
        store.write(out)
        return out

    bars = [
        Bar(symbol="AAPL", granularity="1m", start=T0 + i * M, end=T0 + (i + 1) * M,
            open=close, high=close + 1, low=close - 1, close=close, volume=5.0)
        for i, close in enumerate((10.0, 12.0, 14.0))
    ]  # fmt: skip
    for offset, bar in enumerate(bars, 1):
        apply(offset, bar)
    restated = bars[1].model_copy(update={"close": 13.0, "high": 13.5})
    out = apply(4, restated)
    (published,) = _sent(out, "market.bars.1m")
    assert published == restated.model_copy(update={"revision": 1})
    assert [s.values["sma_2"] for s in _sent(out, "analytics.indicators")] == [11.5, 13.5]
    # the same values again are a duplicate, as without lateness
    (letter,) = _sent(apply(5, restated), "market.deadletter")
    assert letter.reason == "duplicate"
    # without lateness, a restated bar is refused as before
    cfg = Settings(granularities=["1m"], indicators=["sma_2"]).step_config()
    store = MemoryStore()
    for offset, bar in enumerate(bars, 1):
        apply(offset, bar)
    (letter,) = _sent(apply(4, restated), "market.deadletter")
    assert letter.reason == "out_of_order"


def test_the_frame_step_counts_trades_too_late_for_a_granularity() -> None:
    cfg = _step_config(granularities=["1m", "5m"], allowed_lateness_ms={"5m": 10 * 60_000})
    store, time = MemoryStore(), PartitionTime()
    five = T0 - T0 % (5 * M)
    for offset, ts in enumerate((five + 10 * S, five + 6 * M), 1):
        store.write(apply_frame(store, time, Message("raw", 0, offset, b"AAPL",
                                                     _frame((ts, 10.0))), NOW, cfg))  # fmt: skip
    out = apply_frame(store, time, Message("raw", 0, 3, b"AAPL", _frame((five + 20 * S, 11.0))),
                      NOW, cfg)  # fmt: skip
    assert out.too_late == 1  # the 1m bar has gone; the 5m bar takes the trade
    assert [(b.granularity, b.revision) for b in _sent(out, "market.bars.5m")] == [("5m", 1)]


def _minutes(count: int, seed: int) -> list[Bar]:
    """Ready-made minute bars of a random walk, from a fifteen-minute boundary."""
    rng = np.random.default_rng(seed)
    first = T0 - T0 % (15 * M)
    bars, price = [], 100.0
    for i in range(count):
        close = round(price * float(np.exp(rng.normal(0, 0.003))), 2)
        high = round(max(price, close) + float(rng.uniform(0, 0.3)), 2)
        low = round(min(price, close) - float(rng.uniform(0, 0.3)), 2)
        bars.append(Bar(symbol="AAPL", granularity="1m", start=first + i * M,
                        end=first + (i + 1) * M, open=price, high=high, low=low, close=close,
                        volume=float(rng.integers(1, 50) * 100), vwap=round((high + low) / 2, 2),
                        trades=int(rng.integers(1, 30))))  # fmt: skip
        price = close
    return bars


def _restated(bar: Bar, rng: np.random.Generator) -> Bar:
    """The same minute with other values, as a vendor restates it after a late trade."""
    close = round(bar.close + float(rng.normal(0, 0.2)), 2)
    return bar.model_copy(update={
        "close": close, "high": round(max(bar.high, close) + float(rng.uniform(0, 0.2)), 2),
        "low": round(min(bar.low, close) - float(rng.uniform(0, 0.2)), 2),
        "volume": bar.volume + 100.0, "trades": bar.trades + 1,
    })  # fmt: skip


def _rolled_minutes(minutes: list[Bar], length: int = 5) -> dict[int, tuple[float, ...]]:
    """The bars of ``length`` minutes (complete ones only) of ``minutes``, computed here in
    pandas."""
    frame = pd.DataFrame([b.model_dump() for b in minutes])
    frame["group"] = frame["start"] - frame["start"] % (length * M)
    frame["pv"] = frame["vwap"] * frame["volume"]
    g = frame.groupby("group")
    out = {}
    for start, rows in g:
        if len(rows) == length:
            volume = rows["volume"].sum()
            out[int(start)] = (rows["open"].iloc[0], rows["high"].max(), rows["low"].min(),
                               rows["close"].iloc[-1], volume, int(rows["trades"].sum()),
                               rows["pv"].sum() / volume)  # fmt: skip
    return out


def _values(bar: Bar) -> tuple[float, ...]:
    return (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trades, bar.vwap)  # type: ignore[return-value]


@pytest.mark.parametrize("seed", range(6))
def test_restated_minutes_restate_the_five_minute_bars_they_fall_in(seed: int) -> None:
    """Minute bars with restatements of recent ones mixed in: the latest revision of each
    five-minute bar equals the five-minute bar of the corrected minutes, and its series ends
    as a batch over those corrected five-minute bars (with the states read back from bytes
    after every step, for odd seeds)."""
    rng = np.random.default_rng(seed)
    lateness = {"1m": 8 * 60_000, "5m": 15 * 60_000, "15m": 30 * 60_000}
    cfg = _step_config(granularities=["1m", "5m", "15m"], allowed_lateness_ms=lateness,
                       indicators=["sma_3"])  # fmt: skip
    store = MemoryStore()
    minutes = _minutes(62, seed)
    latest = list(minutes)
    published: dict[int, Bar] = {}
    quarters: dict[int, Bar] = {}  # longer than the minutes kept: most of each is settled
    snapshots: dict[int, IndicatorSnapshot] = {}
    offset = 0

    def apply(bar: Bar) -> None:
        nonlocal offset
        offset += 1
        value = bar.model_dump_json().encode()
        out = apply_ready_made_bar(store, Message("bars", 0, offset, b"AAPL", value), cfg)
        store.write(out)
        if seed % 2:  # the states as a restarted worker reads them back
            store.all_series = {key: SeriesState.from_bytes(cfg.detector, series.to_bytes())
                                for key, series in store.all_series.items()}  # fmt: skip
        assert _sent(out, "market.deadletter") == []
        assert out.restated_too_late == 0
        assert {send.key for send in out.sends} <= {b"AAPL"}
        for five in _sent(out, "market.bars.5m"):
            assert five.revision >= published.get(five.start, five).revision
            published[five.start] = five
        for quarter in _sent(out, "market.bars.15m"):
            quarters[quarter.start] = quarter
        for snapshot in _sent(out, "analytics.indicators"):
            if snapshot.granularity == "5m":
                snapshots[snapshot.bar_start] = snapshot

    for i, minute in enumerate(minutes):
        apply(minute)
        if i >= 2 and rng.random() < 0.5:
            back = i - int(rng.integers(0, 6))  # within the minutes' lateness
            latest[back] = _restated(latest[back], rng)
            apply(latest[back])
    want = _rolled_minutes(latest)
    assert sorted(published) == sorted(want)
    for start, values in want.items():
        assert _values(published[start]) == pytest.approx(values), start
    assert any(bar.revision > 0 for bar in published.values())  # restatements reached them
    want_quarters = _rolled_minutes(latest, 15)
    assert sorted(quarters) == sorted(want_quarters)
    for start, values in want_quarters.items():
        assert _values(quarters[start]) == pytest.approx(values), start
    # the series' latest snapshot of each bar is the batch SMA over the corrected closes
    closes = pd.Series([want[start][3] for start in sorted(want)])
    batch = closes.rolling(3).mean()
    got = [snapshots[start].values.get("sma_3") for start in sorted(want)]
    assert got[2:] == pytest.approx(list(batch[2:]))
    assert got[:2] == [None, None]


@pytest.mark.parametrize(("restated", "after", "too_late"), [(2, 16, 2), (10, 12, 0)])
def test_a_restated_minute_whose_coarser_bars_allow_no_lateness_is_counted_not_lost(
    restated: int, after: int, too_late: int
) -> None:
    """Minute 2, restated once all sixteen have come, lies in a closed 5m and a closed 15m bar
    that allow no lateness: counted once for each, and both stay as published. Minute 10,
    restated after twelve, starts where a closed 5m bar ends: its own 5m bar, and the 15m one,
    are still open and take it in time."""
    lateness = {"1m": 16 * 60_000}  # none for 5m and 15m: their published bars are final
    cfg = _step_config(granularities=["1m", "5m", "15m"], allowed_lateness_ms=lateness)
    store = MemoryStore()
    minutes = _minutes(16, 3)
    late = _restated(minutes[restated], np.random.default_rng(1))
    outs = []
    for offset, bar in enumerate([*minutes[:after], late, *minutes[after:]]):
        value = bar.model_dump_json().encode()
        outs.append(apply_ready_made_bar(store, Message("bars", 0, offset, b"AAPL", value), cfg))
        store.write(outs[-1])
    # a coarser bar goes out with the finer bar that reaches its end, not one later
    assert [b.start for b in _sent(outs[4], "market.bars.5m")] == [minutes[0].start]
    last = outs[after]
    assert [b.revision for b in _sent(last, "market.bars.1m")] == [1]  # the minute is revised
    assert _sent(last, "market.bars.5m") == _sent(last, "market.bars.15m") == []
    assert last.restated_too_late == too_late
    corrected = [*minutes[:restated], late, *minutes[restated + 1 :]]
    fives = [b for out in outs for b in _sent(out, "market.bars.5m")]
    (quarter,) = [b for out in outs for b in _sent(out, "market.bars.15m")]
    want = _rolled_minutes(minutes if too_late else corrected)
    assert [b.start for b in fives] == sorted(want)
    for five in fives:
        assert _values(five) == pytest.approx(want[five.start])
    assert _values(quarter) == pytest.approx(
        _rolled_minutes(minutes if too_late else corrected, 15)[quarter.start]
    )


def test_a_restated_minute_that_leaves_its_five_minutes_as_they_were_restates_only_itself() -> None:
    lateness = {"1m": 8 * 60_000, "5m": 15 * 60_000}
    cfg = _step_config(granularities=["1m", "5m"], allowed_lateness_ms=lateness)
    store = MemoryStore()
    minutes = _minutes(6, 4)
    # a middle minute's close moves inside the five minutes' range: open, high, low, close,
    # volume, VWAP and trades of the five minutes stay as they were
    middle = minutes[2]
    inside = middle.model_copy(update={"close": round((middle.high + middle.low) / 2, 2)})
    outs = []
    for offset, bar in enumerate([*minutes, inside]):
        value = bar.model_dump_json().encode()
        outs.append(apply_ready_made_bar(store, Message("bars", 0, offset, b"AAPL", value), cfg))
        store.write(outs[-1])
    last = outs[-1]
    assert [b.revision for b in _sent(last, "market.bars.1m")] == [1]
    assert _sent(last, "market.bars.5m") == []
    assert last.restated_too_late == 0
