"""The agents' steps, with no broker and no Faust: a frame all the way to its signals.

Read top to bottom, this is the flow of ``market.raw``: a frame is decoded and gated, its trades
fold into event-time bars, a bar closes when the partition's stream time passes its end plus the
grace period, and each closed bar goes out with its indicator snapshot and signals. Refused
input becomes dead letters, nothing is lost, and every state the step changed comes back to be
written.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from array import array
from collections.abc import Callable
from dataclasses import replace
from importlib.resources import files
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pandas as pd
import pytest

from marketpulse.analytics.indicators import Candle, IndicatorSet
from marketpulse.analytics.ingest import SymbolState
from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.patterns.detector import SignalDetector
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.step_io import MemoryStore, Message, StepConfig, StepOutputs
from marketpulse.analytics.steps import apply_frame, apply_ready_made_bar
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import DeadLetter
from marketpulse.schemas.signals import Signal
from marketpulse.settings import Settings

S = 10**9
M = 60 * S
T0 = 1_700_000_040 * S  # a minute boundary
NOW = T0 + 10**6 * S  # the wall clock, far ahead: no event is in the future
RAW = "test.market.raw"


def config(**changes: object) -> StepConfig:
    return Settings(**{"granularities": ["1m"], **changes}).step_config()  # type: ignore[arg-type]


def trade(symbol: str, ts: int, price: float, size: float = 100.0) -> dict[str, object]:
    return {"kind": "trade", "symbol": symbol, "ts": ts, "price": price, "size": size}


def frame(*events: dict[str, object]) -> bytes:
    return orjson.dumps({"source": "test", "received_ts": T0, "events": list(events)})


class Partition:
    """One partition's states and time, fed offset by offset as a worker would."""

    def __init__(self, cfg: StepConfig, number: int = 0) -> None:
        self.config, self.store, self.time, self.offset = cfg, MemoryStore(), PartitionTime(), 0
        self.number = number

    def frame(self, key: bytes | None, value: bytes, now: int = NOW) -> StepOutputs:
        self.offset += 1
        out = apply_frame(self.store, self.time, self.message(key, value), now, self.config)
        self.store.write(out)
        return out

    def message(self, key: bytes | None, value: bytes, offset: int | None = None) -> Message:
        return Message(RAW, self.number, self.offset if offset is None else offset, key, value)


def records(out: StepOutputs, topic: str) -> list[object]:
    """What ``out`` sends on ``topic``; forming records (sent encoded) read back as the schema
    reads them."""
    sent = [send.record for send in out.sends if send.topic == topic]
    if topic == "analytics.forming":
        return [IndicatorSnapshot.model_validate_json(record) for record in sent]  # type: ignore[arg-type]
    return sent  # type: ignore[return-value]


def minute_walk(minutes: int, seed: int = 11) -> list[list[dict[str, object]]]:
    """Each minute's trades of one symbol: a random walk, three prints a minute."""
    rng = np.random.default_rng(seed)
    price, out = 100.0, []
    for minute in range(minutes):
        trades = []
        for second in (5, 25, 45):
            price = round(price * float(np.exp(rng.normal(0, 0.004))), 2)
            size = float(rng.integers(1, 50) * 100)
            trades.append(trade("AAPL", T0 + minute * M + second * S, price, size))
        out.append(trades)
    return out


def test_a_frame_goes_all_the_way_to_its_signals() -> None:
    cfg = config()
    partition = Partition(cfg)
    minutes = minute_walk(120)
    outputs = [partition.frame(b"AAPL", frame(*trades)) for trades in minutes]

    # each accepted frame goes on to market.clean as it came
    assert records(outputs[0], "market.clean") == [frame(*minutes[0])]
    # a bar closes when stream time passes its end plus grace: the next minute's frame
    assert records(outputs[0], "market.bars.1m") == []
    bars = [b for out in outputs for b in records(out, "market.bars.1m")]
    assert len(bars) == 119  # the last minute is still open
    first = bars[0]
    assert isinstance(first, Bar)
    prices = [float(t["price"]) for t in minutes[0]]  # type: ignore[arg-type]
    assert (first.start, first.end) == (T0, T0 + M)
    assert (first.open, first.high, first.low, first.close) == (
        prices[0], max(prices), min(prices), prices[-1],
    )  # fmt: skip
    assert first.volume == sum(float(t["size"]) for t in minutes[0])  # type: ignore[arg-type]

    # each bar has its snapshot and signals, equal to the engines run over the bars alone
    indicators = IndicatorSet(cfg.indicators)
    detector = SignalDetector.new(cfg.detector)
    snapshots = [s for out in outputs for s in records(out, "analytics.indicators")]
    signals = [s for out in outputs for s in records(out, "analytics.signals")]
    expected_signals: list[Signal] = []
    for bar, snapshot in zip(bars, snapshots, strict=True):
        assert isinstance(bar, Bar)
        assert isinstance(snapshot, IndicatorSnapshot)
        values = indicators.update(
            Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)
        )
        assert (snapshot.bar, snapshot.values) == (bar, values)
        expected_signals += detector.update(bar, values)
    assert signals == expected_signals
    assert {s.kind for s in expected_signals} >= {"candlestick", "trend"}

    # every step handed back the states it changed, keyed as the tables keep them
    assert set(outputs[-1].symbols) == {b"AAPL"}
    assert set(outputs[-1].series) == {b"AAPL|1m"}
    assert outputs[-1].events == ("test", 3)
    assert outputs[-1].last_event == ("AAPL", minutes[-1][-1]["ts"])


def test_refused_events_are_dead_lettered_as_they_came_and_the_rest_goes_on() -> None:
    partition = Partition(config())
    good = trade("AAPL", T0 + S, 100.0)
    bad = {"kind": "trade", "symbol": "AAPL", "ts": T0 + 2 * S, "price": -1.0, "size": 5}
    other = trade("MSFT", T0 + 3 * S, 50.0)
    quote = {"kind": "quote", "symbol": "AAPL", "ts": T0 + 4 * S, "bid": 99.9, "ask": 100.1}
    later = trade("AAPL", T0 + 5 * S, 100.2)
    out = partition.frame(b"AAPL", frame(good, bad, other, quote, later))
    letters = records(out, "market.deadletter")
    assert [(d.reason, orjson.loads(d.payload)) for d in letters] == [  # type: ignore[attr-defined]
        ("bad_price", bad),
        ("symbol_mismatch", other),
    ]
    letter = letters[0]
    assert isinstance(letter, DeadLetter)
    assert (letter.topic, letter.partition, letter.offset, letter.key) == (RAW, 0, 1, "AAPL")
    (clean,) = records(out, "market.clean")
    accepted = [good, quote, later]  # what follows a refused event still counts
    assert orjson.loads(clean) == {"source": "test", "received_ts": T0, "events": accepted}  # type: ignore[arg-type]
    assert out.last_event == ("AAPL", T0 + 5 * S)
    assert partition.time.stream_time == T0 + 5 * S
    # quotes advance time but make no bars: the open minute holds the two good trades
    (bar,) = partition.store.symbols[b"AAPL"].bars.close(T0 + 10 * M, 0)
    assert (bar.open, bar.close, bar.volume, bar.trades) == (100.0, 100.2, 200.0, 2)


def test_the_latest_event_is_the_latest_accepted_in_time_not_the_last_in_the_frame() -> None:
    partition = Partition(config())
    out = partition.frame(b"AAPL", frame(trade("AAPL", T0 + 3 * S, 100.0),
                                         trade("AAPL", T0 + S, 100.1)))  # fmt: skip
    assert out.last_event == ("AAPL", T0 + 3 * S)
    refused = {"kind": "trade", "symbol": "AAPL", "ts": T0 + 9 * S, "price": -1.0, "size": 5}
    out = partition.frame(b"AAPL", frame(trade("AAPL", T0 + 4 * S, 100.0), refused))
    assert out.last_event == ("AAPL", T0 + 4 * S)


@pytest.mark.parametrize(
    ("key", "value", "detail"),
    [
        (b"AAPL", b"not json", "frame: Invalid JSON"),
        (b"AAPL", b"", "empty message"),
        (b"AAPL", b'{"source": "x", "received_ts": 1}', "events: Field required"),
        (None, frame(trade("AAPL", T0, 1.0)), "frames must be keyed by symbol"),
        (
            b"AAPL",
            frame(trade("AAPL", T0, 1.0)).replace(b'"test"', b'"' + b"s" * 65 + b'"'),
            "source: String should have at most 64 characters",
        ),
        (
            b"AAPL",
            frame(trade("AAPL", T0, 1.0)).replace(b'"test"', b'"a b"'),
            "source: String should match pattern",
        ),
    ],
)
def test_a_message_that_is_not_a_keyed_frame_is_dead_lettered_whole(
    key: bytes | None, value: bytes, detail: str
) -> None:
    partition = Partition(config())
    out = partition.frame(key, value)
    (letter,) = [send.record for send in out.sends]
    assert isinstance(letter, DeadLetter)
    assert (letter.reason, letter.payload) == ("malformed", value.decode())
    assert letter.detail.startswith(detail)
    assert (out.symbols, out.series, out.events) == ({}, {}, None)


def test_a_bar_that_would_not_be_finite_is_dead_lettered_instead_of_published() -> None:
    """With the gate's bounds set near the float limit, a bar's VWAP overflows: the bar is not
    published (JSON would carry null) and its series does not advance."""
    cfg = config()
    loose = replace(cfg, gate=replace(cfg.gate, max_price=1e300, max_size=1e300))
    partition = Partition(loose)
    partition.frame(b"AAPL", frame(trade("AAPL", T0 + S, 1e300, 1e300)))
    out = partition.frame(b"AAPL", frame(trade("AAPL", T0 + M + 3 * S, 1e300, 1e300)))
    (letter,) = records(out, "market.deadletter")
    assert isinstance(letter, DeadLetter)
    assert (letter.reason, letter.offset) == ("non_finite", 2)
    assert f"AAPL|1m|{T0}" in letter.detail
    assert orjson.loads(letter.payload)["start"] == T0
    assert records(out, "market.bars.1m") == records(out, "analytics.indicators") == []
    assert out.series == {}


def test_a_redelivered_frame_changes_nothing() -> None:
    partition = Partition(config())
    value = frame(trade("AAPL", T0 + S, 100.0))
    partition.frame(b"AAPL", value)
    before = partition.store.symbols[b"AAPL"].to_bytes()
    again = apply_frame(
        partition.store, partition.time, partition.message(b"AAPL", value), NOW, partition.config
    )
    assert (again.sends, again.symbols, again.redelivered) == ([], {}, ["bars"])
    assert partition.store.symbols[b"AAPL"].to_bytes() == before


def test_a_quiet_symbol_s_bar_closes_on_the_partition_s_time() -> None:
    partition = Partition(config())
    partition.frame(b"QUIET", frame(trade("QUIET", T0 + S, 10.0)))
    out = partition.frame(b"BUSY", frame(trade("BUSY", T0 + M + 3 * S, 20.0)))
    bars = [(send.key, send.record) for send in out.sends if send.topic == "market.bars.1m"]
    assert [(key, bar.symbol, bar.start) for key, bar in bars] == [(b"QUIET", "QUIET", T0)]  # type: ignore[attr-defined]
    assert set(out.symbols) == {b"BUSY", b"QUIET"}
    assert out.symbols[b"QUIET"].stream_time == T0 + M + 3 * S
    assert set(out.series) == {b"QUIET|1m"}


def test_a_restored_state_goes_on_exactly_as_the_one_kept_in_memory() -> None:
    cfg = config()
    minutes = minute_walk(60, seed=5)
    kept, restored = Partition(cfg), Partition(cfg)
    for i, trades in enumerate(minutes):
        want = kept.frame(b"AAPL", frame(*trades))
        got = restored.frame(b"AAPL", frame(*trades))
        assert got.sends == want.sends
        # a restart between every two frames: the states as the changelog gives them back,
        # and the partition's time rebuilt from them
        restored.store = MemoryStore(
            {k: SymbolState.from_bytes(v.to_bytes(), cfg.gate, cfg.granularities)
             for k, v in restored.store.symbols.items()},
            {k: SeriesState.from_bytes(cfg.detector, v.to_bytes())
             for k, v in restored.store.all_series.items()},
        )  # fmt: skip
        restored.time = PartitionTime.rebuild(restored.store.symbols.items(), cfg.gate.grace_ns)[0]
        assert restored.time.stream_time == kept.time.stream_time, i


def test_a_symbol_state_written_as_one_document_reads_the_same_and_is_written_as_now() -> None:
    """A symbol's state from before its gate's fingerprints followed the document (inside it as
    base64: the shipped compression dictionary holds one, written then) keeps every fingerprint
    in order, and is written back in the current form."""
    shipped = files("marketpulse.tables").joinpath("state-dictionary-2.jsonl").read_bytes()
    older = shipped.split(b"\n")[0]
    cfg = config(granularities=["1m", "5m", "1h", "1d"])
    fingerprints = array("q", base64.b64decode(orjson.loads(older)["gate"]["recent"]))
    assert len(fingerprints) == cfg.gate.dedup_window
    state = SymbolState.from_bytes(older, cfg.gate, cfg.granularities)
    assert state.gate.recent == fingerprints
    written = state.to_bytes()
    head, _, remembered = written.partition(b"\n")
    assert b"recent" not in head
    assert remembered == fingerprints.tobytes()
    again = SymbolState.from_bytes(written, cfg.gate, cfg.granularities)
    assert again.to_bytes() == written
    assert orjson.loads(head)["bars"] == orjson.loads(older)["bars"]


def test_every_partition_s_time_is_rebuilt_from_its_own_symbols_in_one_pass() -> None:
    cfg = config()
    first, second = Partition(cfg, 0), Partition(cfg, 1)
    first.frame(b"QUIET", frame(trade("QUIET", T0 + S, 10.0)))
    first.frame(b"EARLY", frame(trade("EARLY", T0 + 2 * S, 10.0)))
    second.frame(b"LATE", frame(trade("LATE", T0 + 3 * M + 5 * S, 30.0)))
    stored = {**first.store.symbols, **second.store.symbols}
    rebuilt = PartitionTime.rebuild(stored.items(), cfg.gate.grace_ns)
    assert set(rebuilt) == {0, 1}
    for number, partition in ((0, first), (1, second)):
        assert rebuilt[number].stream_time == partition.time.stream_time
        assert rebuilt[number].scheduled == partition.time.scheduled
    # partition 0's time has not passed its symbols' bars: a frame of another partition, however
    # late its events, closes none of them
    assert rebuilt[0].pop_due() == []
    assert rebuilt[1].stream_time == T0 + 3 * M + 5 * S


def test_a_series_that_has_the_bar_already_gets_no_second_snapshot() -> None:
    cfg = config()
    partition = Partition(cfg)
    for trades in minute_walk(3):
        partition.frame(b"AAPL", frame(*trades))
    # the symbol's state is lost (say, a crash between the two tables' flushes); the series kept
    del partition.store.symbols[b"AAPL"]
    partition.time = PartitionTime()
    partition.offset = 0
    replayed = [partition.frame(b"AAPL", frame(*trades)) for trades in minute_walk(3)]
    assert [len(records(out, "market.bars.1m")) for out in replayed] == [0, 1, 1]
    assert [records(out, "analytics.indicators") for out in replayed] == [[], [], []]
    assert [out.redelivered for out in replayed] == [[], ["series"], ["series"]]


def ready_made(
    start: int, granularity: str = "1m", symbol: str = "AAPL", close: float = 10.0
) -> Bar:
    return Bar(symbol=symbol, granularity=granularity, start=start, end=start + M, open=close,
               high=close + 1, low=close - 1, close=close, volume=5.0)  # fmt: skip


def test_a_ready_made_bar_outside_its_range_by_float_noise_goes_out_widened() -> None:
    """Adjusted data: the close an ulp under the low is noise, so the bar is published (with
    the low at the close) and its series advances; a cent under it is a fault."""
    cfg = config()
    noisy = ready_made(T0).model_copy(update={"close": math.nextafter(9.0, 0.0), "low": 9.0})
    out = apply_ready_made_bar(
        MemoryStore(), Message("bars", 0, 1, b"AAPL", noisy.model_dump_json().encode()), cfg
    )
    (published,) = records(out, "market.bars.1m")
    assert isinstance(published, Bar)
    assert (published.low, published.close) == (noisy.close, noisy.close)
    (snapshot,) = records(out, "analytics.indicators")
    assert isinstance(snapshot, IndicatorSnapshot)
    assert snapshot.bar == published
    faulty = noisy.model_copy(update={"close": 8.99})
    refused = apply_ready_made_bar(
        MemoryStore(), Message("bars", 0, 1, b"AAPL", faulty.model_dump_json().encode()), cfg
    )
    assert [r.reason for r in records(refused, "market.deadletter")] == ["bad_ohlc"]  # type: ignore[attr-defined]


def test_a_ready_made_bar_passes_the_gate_then_advances_its_series() -> None:
    cfg = config(indicators=["sma_2"])
    store = MemoryStore()

    def apply(offset: int, value: bytes, key: bytes | None = b"AAPL") -> StepOutputs:
        out = apply_ready_made_bar(store, Message("bars", 0, offset, key, value), cfg)
        store.write(out)
        return out

    first, second = ready_made(T0, close=10.0), ready_made(T0 + M, close=12.0)
    out = apply(1, first.model_dump_json().encode())
    assert [send.topic for send in out.sends] == ["market.bars.1m", "analytics.indicators"]
    out = apply(2, second.model_dump_json().encode())
    snapshot = records(out, "analytics.indicators")[0]
    assert isinstance(snapshot, IndicatorSnapshot)
    assert snapshot.values == {"sma_2": 11.0}
    assert store.all_series[b"AAPL|1m"].offset == 2

    def reason(out: StepOutputs) -> str:
        (letter,) = [send.record for send in out.sends]
        assert isinstance(letter, DeadLetter)
        return letter.reason

    assert reason(apply(3, second.model_dump_json().encode())) == "duplicate"
    assert reason(apply(4, ready_made(T0 + 2 * M, "5m").model_dump_json().encode())) == (
        "bad_granularity"
    )
    assert reason(apply(5, ready_made(T0 + 2 * M, symbol="MSFT").model_dump_json().encode())) == (
        "symbol_mismatch"
    )
    assert reason(apply(6, b'{"symbol": "AAPL"}')) == "malformed"
    again = apply(2, second.model_dump_json().encode())
    assert (again.sends, again.redelivered) == ([], ["series"])


def test_every_record_is_keyed_by_its_symbol() -> None:
    partition = Partition(config())
    outputs = [partition.frame(b"AAPL", frame(*trades)) for trades in minute_walk(5)]
    outputs.append(partition.frame(b"MSFT", frame(trade("MSFT", T0 + 9 * M, 50.0))))
    last_price = float(minute_walk(5)[-1][-1]["price"])  # type: ignore[arg-type]
    bad = frame(trade("AAPL", T0 + 9 * M + S, -1.0), trade("AAPL", T0 + 9 * M + 2 * S, last_price))
    outputs.append(partition.frame(b"AAPL", bad))
    sends = [send for out in outputs for send in out.sends]
    for send in sends:
        record = send.record
        if send.topic == "analytics.forming":
            record = IndicatorSnapshot.model_validate_json(record)  # type: ignore[arg-type]
        symbol = getattr(record, "symbol", None) or getattr(record, "key", None) or "AAPL"
        if send.topic == "market.clean" and send in outputs[-2].sends:
            symbol = "MSFT"
        assert send.key == symbol.encode(), send
    assert {send.topic for send in sends} >= {
        "market.clean", "market.bars.1m", "analytics.indicators", "market.deadletter",
    }  # fmt: skip
    msft_step = [(send.topic, send.key) for send in outputs[-2].sends]
    assert ("market.bars.1m", b"AAPL") in msft_step  # MSFT's frame closed AAPL's last bar


def test_a_key_that_is_not_utf8_refuses_its_events_and_nothing_breaks() -> None:
    partition = Partition(config())
    out = partition.frame(b"\xffAAPL", frame(trade("AAPL", T0, 1.0)))
    (letter,) = records(out, "market.deadletter")
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "symbol_mismatch"
    assert letter.detail == "event for AAPL in a frame keyed \ufffdAAPL"


def test_quiet_symbols_close_even_when_the_sender_is_due_too() -> None:
    partition = Partition(config())
    partition.frame(b"QUIET", frame(trade("QUIET", T0 + S, 10.0)))
    partition.frame(b"K", frame(trade("K", T0 + 2 * S, 20.0)))
    # K is due first (same close time, smaller key): it must not stop the others closing
    out = partition.frame(b"K", frame(trade("K", T0 + M + 5 * S, 21.0)))
    closed = sorted((send.key, send.record.start) for send in out.sends  # type: ignore[union-attr]
                    if send.topic == "market.bars.1m")  # fmt: skip
    assert closed == [(b"K", T0), (b"QUIET", T0)]


def test_a_quiet_symbol_keeps_its_coarser_bar_scheduled() -> None:
    cfg = Settings(granularities=["1m", "5m"]).step_config()
    partition = Partition(cfg)
    five = T0 - T0 % (5 * M) + 5 * M
    partition.frame(b"QUIET", frame(trade("QUIET", five + S, 10.0)))
    partition.frame(b"BUSY", frame(trade("BUSY", five + M + 3 * S, 20.0)))  # QUIET's 1m closes
    out = partition.frame(b"BUSY", frame(trade("BUSY", five + 5 * M + 3 * S, 21.0)))
    quiet = [send.record for send in out.sends
             if send.key == b"QUIET" and send.topic.startswith("market.bars.")]  # fmt: skip
    assert [(b.granularity, b.start) for b in quiet] == [("5m", five)]  # type: ignore[attr-defined]


def test_one_frame_that_closes_two_bars_of_a_new_series_applies_both_to_it() -> None:
    partition = Partition(config(indicators=["sma_2"]))
    trades = [trade("AAPL", T0 + i * M + S, 10.0 + i) for i in range(4)]
    out = partition.frame(b"AAPL", frame(*trades))
    snapshots = records(out, "analytics.indicators")
    assert [s.values for s in snapshots] == [{}, {"sma_2": 10.5}]  # type: ignore[attr-defined]


def test_ready_made_refusals_say_what_was_wrong() -> None:
    cfg = Settings(granularities=["1m", "5m"]).step_config()
    partial = ready_made(T0).model_dump()
    del partial["close"]

    def detail(value: bytes) -> str:
        out = apply_ready_made_bar(MemoryStore(), Message("bars", 0, 1, b"AAPL", value), cfg)
        (letter,) = [send.record for send in out.sends]
        assert isinstance(letter, DeadLetter)
        return letter.detail

    assert detail(orjson.dumps(partial)) == "Field required"
    hourly = Bar(**{**ready_made(T0).model_dump(), "granularity": "1h", "end": T0 + 60 * M})
    assert detail(hourly.model_dump_json().encode()) == (
        "1h bars are not kept here (MARKETPULSE_GRANULARITIES: 1m, 5m)"
    )
    bar = ready_made(T0).model_dump_json().encode()
    out = apply_ready_made_bar(MemoryStore(), Message("bars", 0, 1, b"AAPL", bar), cfg)
    assert {send.key for send in out.sends} == {b"AAPL"}


def _ny_ns(*parts: int) -> int:
    return int(dt.datetime(*parts, tzinfo=ZoneInfo("America/New_York")).timestamp()) * S


def test_a_calendar_symbol_s_trades_outside_its_sessions_are_dead_lettered() -> None:
    cfg = config(granularities=["1h"], calendars={"AAPL": "NYSE"})
    partition = Partition(cfg)
    saturday = trade("AAPL", _ny_ns(2023, 11, 18, 11), 100.0)
    early = trade("AAPL", _ny_ns(2023, 11, 17, 9, 29), 100.0)
    inside = trade("AAPL", _ny_ns(2023, 11, 17, 9, 30), 101.0)
    out = partition.frame(b"AAPL", frame(early, inside, saturday))
    letters = records(out, "market.deadletter")
    assert [(d.reason, orjson.loads(d.payload)["ts"]) for d in letters] == [  # type: ignore[attr-defined]
        ("outside_session", early["ts"]),
        ("outside_session", saturday["ts"]),
    ]
    # the session's last bar closes at the close plus grace, on another symbol's time
    late = partition.frame(b"AAPL", frame(trade("AAPL", _ny_ns(2023, 11, 17, 15, 45), 102.0)))
    assert records(late, "market.bars.1h") != []  # 09:30's bar, closed by the 15:45 trade
    quiet = partition.frame(b"MSFT", frame(trade("MSFT", _ny_ns(2023, 11, 17, 16, 0, 3), 50.0)))
    (last,) = [b for b in records(quiet, "market.bars.1h") if b.symbol == "AAPL"]  # type: ignore[attr-defined]
    assert isinstance(last, Bar)
    assert (last.start, last.end) == (_ny_ns(2023, 11, 17, 15, 30), _ny_ns(2023, 11, 17, 16))
    assert (last.calendar, last.session) == ("NYSE", "2023-11-17")
    # a state written and read back goes on with the symbol's calendar
    state = partition.store.symbols[b"MSFT"].to_bytes()
    assert SymbolState.from_bytes(state, cfg.gate, cfg.cuts).bars.cuts["1h"].session_table is None


def _minute_bars(symbol: str, first: int, count: int, seed: int) -> list[Bar]:
    rng = np.random.default_rng(seed)
    out, price = [], 100.0
    for i in range(count):
        start = first + i * M
        o = price
        c = round(o * float(np.exp(rng.normal(0, 0.002))), 4)
        h, low = round(max(o, c) * 1.001, 4), round(min(o, c) * 0.999, 4)
        volume = float(rng.integers(1, 100) * 100)
        out.append(Bar(symbol=symbol, granularity="1m", start=start, end=start + M, open=o,
                       high=h, low=low, close=c, volume=volume, vwap=round((h + low + c) / 3, 4),
                       trades=int(rng.integers(1, 20))))  # fmt: skip
        price = c
    return out


def _roll_up_all(cfg: StepConfig, bars: list[Bar]) -> list[Bar]:
    store = MemoryStore()
    published = []
    for offset, bar in enumerate(bars):
        message = Message("bars", 0, offset, bar.symbol.encode(), bar.model_dump_json().encode())
        out = apply_ready_made_bar(store, message, cfg)
        store.write(out)
        published += [
            r for s in out.sends if isinstance(r := s.record, Bar) and r.granularity != "1m"
        ]
    return published


def _resampled(bars: list[Bar], key: Callable[[Bar], int]) -> list[tuple[float, ...]]:
    """OHLCV, trades and VWAP of ``bars`` grouped by ``key`` (a coarser bar's start), in pandas."""
    frame = pd.DataFrame([b.model_dump() for b in bars]).assign(
        group=[key(b) for b in bars],
        pv=[b.vwap * b.volume for b in bars],  # type: ignore[operator]
    )
    g = frame.groupby("group", sort=True)
    agg = pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(), "low": g["low"].min(),
                        "close": g["close"].last(), "volume": g["volume"].sum(),
                        "trades": g["trades"].sum(), "pv": g["pv"].sum()})  # fmt: skip
    return [(int(start), r.open, r.high, r.low, r.close, r.volume, int(r.trades),
             r.pv / r.volume) for start, r in agg.iterrows()]  # fmt: skip


def test_ready_made_minute_bars_roll_up_into_every_coarser_utc_granularity() -> None:
    cfg = config(granularities=["1m", "5m", "1h"])
    minutes = _minute_bars("AAPL", T0, 130, 1)  # two hours and ten minutes
    rolled = _roll_up_all(cfg, minutes)
    for name, length in (("5m", 5 * M), ("1h", 60 * M)):
        got = [(b.start, b.open, b.high, b.low, b.close, b.volume, b.trades, b.vwap)
               for b in rolled if b.granularity == name]  # fmt: skip
        complete = [b for b in minutes if b.start - b.start % length + length <= minutes[-1].end]
        want = _resampled(complete, lambda b, n=length: b.start - b.start % n)  # type: ignore[misc]
        assert len(got) == len(want), name
        assert [v for row in got for v in row] == pytest.approx([v for row in want for v in row])


def test_ready_made_minute_bars_roll_up_into_the_session_s_hours_and_day() -> None:
    cfg = config(granularities=["1m", "1h", "1d"], calendars={"AAPL": "NYSE"})
    opened = _ny_ns(2023, 11, 17, 9, 30)
    minutes = _minute_bars("AAPL", opened, 390, 2)  # 09:30 to 16:00
    rolled = _roll_up_all(cfg, minutes)
    hours = [b for b in rolled if b.granularity == "1h"]
    assert [b.start for b in hours] == [opened + i * 60 * M for i in range(7)]
    assert hours[-1].end - hours[-1].start == 30 * M  # the 15:30 bar ends at the close
    want = _resampled(minutes, lambda b: opened + (b.start - opened) // (60 * M) * 60 * M)
    got = [(b.start, b.open, b.high, b.low, b.close, b.volume, b.trades, b.vwap) for b in hours]
    assert [v for row in got for v in row] == pytest.approx([v for row in want for v in row])
    (day,) = [b for b in rolled if b.granularity == "1d"]
    assert (day.start, day.end, day.session, day.calendar) == (
        opened, _ny_ns(2023, 11, 17, 16), "2023-11-17", "NYSE"
    )  # complete at the last minute bar: the session's close  # fmt: skip
    assert (day.open, day.close, day.volume) == (
        minutes[0].open, minutes[-1].close, sum(b.volume for b in minutes)
    )  # fmt: skip


def test_a_quiet_symbol_s_bar_that_would_not_be_finite_is_dead_lettered_where_it_closed() -> None:
    cfg = config()
    loose = replace(cfg, gate=replace(cfg.gate, max_price=1e300, max_size=1e300))
    partition = Partition(loose)
    partition.frame(b"QUIET", frame(trade("QUIET", T0 + S, 1e300, 1e300)))
    out = partition.frame(b"BUSY", frame(trade("BUSY", T0 + M + 3 * S, 10.0)))
    (letter,) = records(out, "market.deadletter")
    assert isinstance(letter, DeadLetter)
    assert (letter.reason, letter.offset, letter.key) == ("non_finite", 2, "BUSY")


def test_a_calendar_symbol_s_ready_made_bars_follow_its_sessions_and_roll_up_keyed() -> None:
    cfg = config(granularities=["1h", "1d"], calendars={"AAPL": "NYSE"})
    opened = _ny_ns(2023, 11, 17, 9, 30)
    hour = Bar(symbol="AAPL", granularity="1h", start=opened, end=opened + 60 * M, open=10.0,
               high=11.0, low=9.0, close=10.5, volume=100.0)  # fmt: skip
    store = MemoryStore()
    out = apply_ready_made_bar(
        store, Message("bars", 0, 1, b"AAPL", hour.model_dump_json().encode()), cfg
    )
    assert records(out, "market.deadletter") == []  # 09:30: the session's first hour
    on_the_hour = hour.model_copy(update={"start": opened + 30 * M, "end": opened + 90 * M})
    refused = apply_ready_made_bar(
        MemoryStore(), Message("bars", 0, 1, b"AAPL", on_the_hour.model_dump_json().encode()), cfg
    )
    assert [d.reason for d in records(refused, "market.deadletter")] == ["bad_granularity"]  # type: ignore[attr-defined]
    # the last hour (15:30 to the close) completes the day, published keyed by its symbol
    store.write(out)
    last = hour.model_copy(update={"start": opened + 360 * M, "end": opened + 390 * M})
    closing = apply_ready_made_bar(
        store, Message("bars", 0, 2, b"AAPL", last.model_dump_json().encode()), cfg
    )
    days = [(s.key, s.record) for s in closing.sends if s.topic == "market.bars.1d"]
    assert [(key, day.start, day.end) for key, day in days] == [  # type: ignore[attr-defined]
        (b"AAPL", opened, _ny_ns(2023, 11, 17, 16))
    ]


def test_bars_still_forming_go_out_at_most_once_an_interval_and_change_no_state() -> None:
    cfg = config(granularities=["1m", "5m"], forming_interval_ms=1000)
    forming, closed_only = Partition(cfg), Partition(replace(cfg, forming_interval_ns=0))
    minutes = minute_walk(12)
    wall = [NOW + i * 500_000_000 for i in range(len(minutes))]  # a frame every 0.5 s
    sent = []
    for trades, now in zip(minutes, wall, strict=True):
        out = forming.frame(b"AAPL", frame(*trades), now)
        other = closed_only.frame(b"AAPL", frame(*trades), now)
        sent.append(records(out, "analytics.forming"))
        assert out.forming == [r.granularity for r in sent[-1]]  # type: ignore[attr-defined]  # counted each
        # the same closed bars, snapshots and signals, and the same series states
        assert [s for s in out.sends if s.topic != "analytics.forming"] == other.sends
        assert {k: v.to_bytes() for k, v in out.series.items()} == {
            k: v.to_bytes() for k, v in other.series.items()
        }
        assert records(other, "analytics.forming") == []
    # the first frame, then each one at least a second after the last that sent
    assert [i for i, records_ in enumerate(sent) if records_] == [0, 2, 4, 6, 8, 10]
    for records_ in sent:
        assert all(isinstance(r, IndicatorSnapshot) and not r.final for r in records_)
        # each granularity's bar that closes next, keyed as every record is
        assert sorted(r.granularity for r in records_) in ([], ["1m", "5m"])  # type: ignore[union-attr]


def test_a_forming_bar_s_values_are_the_final_ones_when_nothing_more_comes() -> None:
    partition = Partition(config(granularities=["1m", "5m"], forming_interval_ms=1))
    # a minute's trades in one frame: its last forming snapshot has all of them
    outputs = [
        partition.frame(b"AAPL", frame(*trades), NOW + i * S)
        for i, trades in enumerate(minute_walk(30))
    ]
    forming: dict[tuple[str, int], IndicatorSnapshot] = {}
    compared = 0
    for out in outputs:
        for snapshot in records(out, "analytics.indicators"):
            assert isinstance(snapshot, IndicatorSnapshot)
            assert snapshot.final
            last = forming.pop((snapshot.granularity, snapshot.bar_start))
            assert last.bar.model_copy(update={"final": True}) == snapshot.bar
            assert (last.values, last.ready) == (snapshot.values, snapshot.ready)
            compared += 1
        for snapshot in records(out, "analytics.forming"):
            assert isinstance(snapshot, IndicatorSnapshot)
            forming[(snapshot.granularity, snapshot.bar_start)] = snapshot
    fives = len({(T0 + i * M) // (5 * M) for i in range(30)})
    assert compared == 29 + fives - 1  # every closed 1m and 5m bar
    # the warm-up shows: a 1m bar's forming snapshot says which indicators it would ready
    assert not all(forming[("1m", T0 + 29 * M)].ready.values())


def test_no_forming_bars_when_the_interval_is_zero() -> None:
    partition = Partition(config(forming_interval_ms=0))
    outputs = [partition.frame(b"AAPL", frame(*trades)) for trades in minute_walk(3)]
    assert [records(out, "analytics.forming") for out in outputs] == [[], [], []]


def test_series_not_started_yet_all_peek_from_a_blank_set_that_nothing_changes() -> None:
    cfg = config(forming_interval_ms=1)
    first = minute_walk(1)[0]
    shown = []
    for symbol in ["A", "B", "C"]:  # a partition each: none of the trades is late
        trades = [{**t, "symbol": symbol} for t in first]
        out = Partition(cfg).frame(symbol.encode(), frame(*trades))
        (snapshot,) = records(out, "analytics.forming")
        assert isinstance(snapshot, IndicatorSnapshot)
        shown.append((snapshot.bar.close, snapshot.values, snapshot.ready))
    # the same trades give the same first bar and values, whichever symbol peeked before
    assert shown[0] == shown[1] == shown[2]
    assert shown[0][1]["obv"] == sum(float(t["size"]) for t in first)  # type: ignore[arg-type]


def test_the_forming_bar_is_the_one_that_closes_next() -> None:
    # a grace of 10 s: the first minute's bar is still open after a trade of the next one
    partition = Partition(config(grace_ms=10_000, forming_interval_ms=1))
    partition.frame(b"AAPL", frame(trade("AAPL", T0 + 58 * S, 100.0)), NOW)
    out = partition.frame(b"AAPL", frame(trade("AAPL", T0 + 61 * S, 101.0)), NOW + S)
    (snapshot,) = records(out, "analytics.forming")
    assert isinstance(snapshot, IndicatorSnapshot)
    assert (snapshot.bar_start, snapshot.bar.close) == (T0, 100.0)


@pytest.mark.parametrize("lateness", [{}, {"1m": 120_000}], ids=["final", "revisable"])
def test_a_series_that_has_the_forming_bar_already_skips_it_and_not_the_others(
    lateness: dict[str, int],
) -> None:
    cfg = config(granularities=["1m", "5m"], forming_interval_ms=1, allowed_lateness_ms=lateness)
    partition = Partition(cfg)
    minutes = minute_walk(14)
    for i, trades in enumerate(minutes):
        partition.frame(b"AAPL", frame(*trades), NOW + i * S)
    # a restart that kept the series and lost the symbol's state: an earlier frame comes again,
    # of a minute whose 1m bar the series has and whose 5m bar is still open
    last = T0 + 13 * M
    window = last - last % (5 * M)
    again = (window - T0) // M
    assert again < 13
    partition.store.symbols.clear()
    partition.time = PartitionTime()
    out = partition.frame(b"AAPL", frame(*minutes[again]), NOW + 20 * S)
    shown = [(r.granularity, r.bar_start) for r in records(out, "analytics.forming")]  # type: ignore[attr-defined]
    assert shown == [("5m", window)]
