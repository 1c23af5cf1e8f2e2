"""Ten thousand malformed or hostile frames mixed into valid traffic, through the real broker and
worker: each one is dead-lettered with its reason, the worker keeps running, and the bars of the
valid traffic equal an independent resample of it, as if the hostile frames had never been sent.
The worker's metrics stay bounded however many sources and symbols the feed invents.

Each hostile frame carries exactly one fault (a broken message, or one bad event), so each must
give exactly one dead letter, found by its offset on ``market.raw``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from marketpulse.clock import SystemClock
from marketpulse.schemas.events import Event, Frame, Trade
from marketpulse.settings import Settings
from marketpulse.streams.sources.synthetic import SyntheticMarket
from tests.e2e.pipeline import (
    M,
    Pipeline,
    S,
    assert_bars_equal,
    decoded,
    expected_bars,
    one_partition,
)
from tests.kafka_helpers import produce
from tests.workers import free_port

pytestmark = [pytest.mark.e2e]

SYMBOLS = ["FZA", "FZB", "FZC"]
MINUTES = 20
HOSTILE = 10_000

Message = tuple[bytes | None, bytes | None]
Builder = Callable[[str, Event, int], Message]


MAX_SOURCES = 4
MAX_SYMBOLS = 8
NEW_SYMBOLS = 40  # valid quotes of symbols never seen before, to mint metric series
METRICS_PORT = free_port()


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(
        services,
        tmp_path,
        '["1m"]',
        '["sma_3"]',
        MARKETPULSE_WORKER_METRICS_PORT=str(METRICS_PORT),
        MARKETPULSE_METRICS_MAX_SOURCES=str(MAX_SOURCES),
        MARKETPULSE_METRICS_MAX_SYMBOLS=str(MAX_SYMBOLS),
    ) as p:
        yield p


def _frame(symbol: str, *events: dict[str, object], source: str = "fuzz") -> Message:
    body = {"source": source, "received_ts": 1, "events": list(events)}
    return symbol.encode(), orjson.dumps(body)


def _event(last: Event, **changes: object) -> dict[str, object]:
    return {**last.model_dump(mode="json"), **changes}


def _trade(symbol: str, ts: int, **changes: object) -> dict[str, object]:
    return {"kind": "trade", "symbol": symbol, "ts": ts, "price": 100.0, "size": 1.0, **changes}


def _quote(symbol: str, ts: int, **changes: object) -> dict[str, object]:
    fields = {"bid": 100.0, "ask": 100.1, "bid_size": 100.0, "ask_size": 100.0}
    return {"kind": "quote", "symbol": symbol, "ts": ts, **fields, **changes}


def _valid_body(symbol: str, ts: int) -> bytes:
    return _frame(symbol, _trade(symbol, ts))[1]


def _noise(symbol: str, _last: Event, now: int) -> Message:
    return symbol.encode(), random.Random(now).randbytes(64)  # noqa: S311 - noise, not secrets


# Each hostile kind: its expected reason, and how to build it from the key (s), the last valid
# event of that key (e: timing faults are judged against the live stream) and the time (n).
KINDS: dict[str, tuple[str, Builder]] = {
    "random_bytes": ("malformed", _noise),
    "empty": ("malformed", lambda s, e, n: (s.encode(), b"")),
    "truncated": ("malformed", lambda s, e, n: (s.encode(), _valid_body(s, e.ts)[:-7])),
    "not_an_object": ("malformed", lambda s, e, n: (s.encode(), b'["a", 1, null]')),
    "events_not_a_list": (
        "malformed", lambda s, e, n: (s.encode(), b'{"source":"x","received_ts":1,"events":7}')
    ),
    "unknown_kind": ("malformed", lambda s, e, n: _frame(s, _event(e, kind="order"))),
    "no_timestamp": ("malformed", lambda s, e, n: _frame(s, {**_trade(s, e.ts), "ts": None})),
    "negative_timestamp": ("malformed", lambda s, e, n: _frame(s, _trade(s, -5))),
    "price_as_text": ("malformed", lambda s, e, n: _frame(s, _trade(s, e.ts, price="ten"))),
    "extra_field": ("malformed", lambda s, e, n: _frame(s, _trade(s, e.ts, venue="X"))),
    "huge_symbol": ("malformed", lambda s, e, n: _frame(s, _trade("S" * 5000, e.ts))),
    "deep_nesting": ("malformed", lambda s, e, n: (s.encode(), b"[" * 5000 + b"]" * 5000)),
    "no_key": ("malformed", lambda s, e, n: (None, _valid_body(s, e.ts))),
    "tombstone": ("malformed", lambda s, e, n: (s.encode(), None)),
    "huge_source": (
        "malformed", lambda s, e, n: _frame(s, _trade(s, e.ts), source="x" * 100_000)
    ),
    "source_not_an_identifier": (
        "malformed", lambda s, e, n: _frame(s, _trade(s, e.ts), source="a source\n{}")
    ),
    "fresh_source": (  # counted by source before the gate, then refused
        "bad_price", lambda s, e, n: _frame(s, _trade(s, e.ts, price=0.0), source=f"src-{n}")
    ),
    "overflow": (
        "out_of_range", lambda s, e, n: _frame(s, _trade(s, e.ts, price=1e308, size=1e308))
    ),
    "huge_size": ("out_of_range", lambda s, e, n: _frame(s, _trade(s, e.ts, size=1e300))),
    "huge_quote": (
        "out_of_range", lambda s, e, n: _frame(s, _quote(s, e.ts, bid=1e300, ask=1e301))
    ),
    "zero_price": ("bad_price", lambda s, e, n: _frame(s, _trade(s, e.ts, price=0.0))),
    "negative_price": ("bad_price", lambda s, e, n: _frame(s, _trade(s, e.ts, price=-3.5))),
    "negative_size": ("negative_size", lambda s, e, n: _frame(s, _trade(s, e.ts, size=-1.0))),
    "negative_quote_size": (
        "negative_size", lambda s, e, n: _frame(s, _quote(s, e.ts, bid_size=-100.0))
    ),
    "crossed": ("crossed_quote", lambda s, e, n: _frame(s, _quote(s, e.ts, bid=101.0, ask=99.0))),
    "future": ("future_timestamp", lambda s, e, n: _frame(s, _trade(s, n + 86_400 * S))),
    "late": ("late", lambda s, e, n: _frame(s, _trade(s, e.ts - 3_600 * S))),
    "duplicate": ("duplicate", lambda s, e, n: _frame(s, _event(e))),
    "wrong_symbol": ("symbol_mismatch", lambda s, e, n: _frame(s, _trade("OTHER", e.ts))),
}  # fmt: skip


def _traffic(t0: int, now: int) -> tuple[list[tuple[Message, str | None]], dict[str, list[Trade]]]:
    """Valid frames (one a second per symbol) with the hostile frames mixed in at random
    places, each with its expected reason (None: valid); and the valid trades per symbol."""
    market = SyntheticMarket(SYMBOLS, seed=11)
    valid: list[tuple[str, Frame]] = []
    for second in range(MINUTES * 60):
        start = t0 + second * S
        valid += [(s, market.frame(s, start, start + S, 5)) for s in SYMBOLS]
    rng = random.Random(5)  # noqa: S311 - a reproducible mix, not secrets
    after = sorted(rng.randrange(len(valid)) for _ in range(HOSTILE))  # hostile after valid[i]
    kinds = list(KINDS)
    messages: list[tuple[Message, str | None]] = []
    cursor = 0
    every = len(valid) // NEW_SYMBOLS
    for index, (symbol, frame) in enumerate(valid):
        messages.append(((symbol.encode(), frame.model_dump_json().encode()), None))
        while cursor < len(after) and after[cursor] == index:
            reason, build = KINDS[kinds[cursor % len(kinds)]]
            # each build gets its own time: fresh sources are named by it
            messages.append((build(symbol, frame.events[-1], now + cursor), reason))
            cursor += 1
        if index % every == 0:  # a quote advances no bar: the valid bars stay as they are
            new = f"NEW{index // every}"
            messages.append((_frame(new, _quote(new, frame.events[-1].ts)), None))
    trades = {
        s: [e for sym, f in valid if sym == s for e in f.events if isinstance(e, Trade)]
        for s in SYMBOLS
    }
    return messages, trades


async def test_hostile_frames_are_dead_lettered_and_valid_output_is_unchanged(
    pipeline: Pipeline,
) -> None:
    now = SystemClock().now_ns()
    t0 = (now // M - MINUTES - 10) * M
    messages, trades = _traffic(t0, now)
    expected = {i: reason for i, (_, reason) in enumerate(messages) if reason is not None}
    assert len(expected) == HOSTILE
    assert {r for r in expected.values()} == {reason for reason, _ in KINDS.values()}

    worker = pipeline.start_worker()
    await produce(pipeline.settings, pipeline.prefix + "market.raw", [m for m, _ in messages])

    horizon = max(t.ts for ts in trades.values() for t in ts)
    want = {s: expected_bars(ts, M, horizon) for s, ts in trades.items()}
    bars = decoded(await pipeline.read("market.bars.1m", sum(len(w) for w in want.values())))
    letters = decoded(await pipeline.read("market.deadletter", HOSTILE))
    assert worker.proc.poll() is None, "the worker died"

    # exactly one dead letter per hostile frame (one partition: offsets are message indexes)
    assert sorted(int(d["offset"]) for d in letters) == sorted(expected)  # type: ignore[call-overload]
    for letter in letters:
        assert letter["reason"] == expected[int(letter["offset"])], letter  # type: ignore[call-overload]
        assert letter["detail"]
        assert letter["topic"] == pipeline.prefix + "market.raw"

    # the valid traffic's bars, exactly as if nothing hostile had been sent
    assert len(bars) == sum(len(w) for w in want.values())
    for symbol, expected_rows in want.items():
        assert_bars_equal(bars, symbol, expected_rows)

    # hundreds of sources and dozens of symbols, but only as many series as configured
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"http://127.0.0.1:{METRICS_PORT}/metrics")).text
    sources = _label_values(metrics, "marketpulse_events_in_total", "source")
    assert len(sources) == MAX_SOURCES + 1, sources
    assert {"synthetic", "fuzz", "other"} <= sources
    symbols = _label_values(metrics, "marketpulse_last_event_timestamp_seconds", "symbol")
    assert len(symbols) == MAX_SYMBOLS + 1, symbols
    assert {*SYMBOLS, "other"} <= symbols
    assert len(metrics) < 100_000  # no 100 kB source became a label


def _label_values(metrics: str, name: str, label: str) -> set[str]:
    """The values ``label`` takes in the samples of metric ``name``."""
    found = set()
    for line in metrics.splitlines():
        if line.startswith(name + "{"):
            labels = line[len(name) + 1 : line.index("}")]
            for pair in labels.split(","):
                key, _, value = pair.partition("=")
                if key == label:
                    found.add(value.strip('"'))
    return found
