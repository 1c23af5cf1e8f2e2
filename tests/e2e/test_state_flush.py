"""State reaches the changelog once per commit, and a flush that a crash cut short reads back as
the one before it (marketpulse.tables.checkpoints), once the restarted worker's table has read its
changelog back (marketpulse.tables.store).

A state that cannot be read (as after an upgrade that changed the format) makes its symbol's
steps fail: each of its frames is dead-lettered as ``processing_error``, and the other symbols'
bars come out exact; nothing is acknowledged unseen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from marketpulse.clock import SystemClock
from marketpulse.schemas.events import Trade
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import publish
from marketpulse.tables import checkpoints
from tests.e2e.pipeline import (
    Pipeline,
    S,
    assert_bars_equal,
    decoded,
    expected_bars,
    one_partition,
    one_trade_frames,
)
from tests.kafka_helpers import consume_until, produce, read_to_end

pytestmark = [pytest.mark.e2e]

SYMBOL = "FLU"
BAR = 5 * S


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(services, tmp_path, '["5s"]', '["sma_3"]') as p:
        yield p


async def test_a_flush_cut_short_reads_as_the_one_before(pipeline: Pipeline) -> None:
    start = (SystemClock().now_ns() // (60 * S) - 30) * 60 * S
    trades = [
        Trade(symbol=SYMBOL, ts=start + i * S, price=100 + (i * 7) % 11, size=1 + i % 3)
        for i in range(120)
    ]
    first, second = trades[:60], trades[60:]
    changelog = f"{pipeline.env['MARKETPULSE_WORKER_ID']}-bar-state-changelog"
    worker = pipeline.start_worker()
    await publish(pipeline.settings, one_trade_frames(first[:30]))
    await consume_until(
        pipeline.settings, [changelog], lambda rs: any(r.key == SYMBOL.encode() for r in rs)
    )  # a commit has flushed the symbol's state once
    await publish(pipeline.settings, one_trade_frames(first[30:]))
    await pipeline.read("market.bars.5s", len(expected_bars(first, BAR, first[-1].ts)))
    assert worker.stop() == 0  # a clean stop commits, so the last states are flushed

    records = (await read_to_end(pipeline.settings, [changelog]))[changelog]
    ours = [r.value for r in records if r.key == SYMBOL.encode() and r.value]
    markers = [r for r in records if r.key == checkpoints.marker_key(0)]
    # 60 frames, each of which used to write the symbol's state: now one write per commit
    assert 2 <= len(ours) < 10
    assert len(markers) >= len(ours)
    flushed = checkpoints.flushed(markers[-1].value)
    part = checkpoints.resolve(ours[-1], flushed)
    assert part is not None
    state = checkpoints.expand(part)
    assert len(part) < len(state)  # the changelog carries it compressed
    head, _, remembered = state.partition(b"\n")  # the document, then the gate's fingerprints
    assert orjson.loads(head)["offset"] == len(first) - 1  # every frame is in it
    # each record carries the state its key had at the flush before (0: a flush before any)
    assert checkpoints.resolve(ours[-1], 0) == checkpoints.resolve(ours[-2], flushed)

    # A crash after this key's record landed and before its partition's marker: the record's
    # current state must not be used. This one would skip every frame still to come.
    ahead = orjson.dumps({**orjson.loads(head), "offset": 10**9}) + b"\n" + remembered
    cut_short = checkpoints.pack(flushed + 1, 0, checkpoints.compress(ahead), part)
    await produce(pipeline.settings, changelog, [(SYMBOL.encode(), cut_short)])

    log = pipeline.start_worker().log()
    # the table read its changelog back itself, every record, and Faust's recovery had none left
    assert f"bar-state: read {len(records) + 1} records of 1 changelog partitions" in log
    assert "Restoring state from changelog topics" not in log
    await publish(pipeline.settings, one_trade_frames(second))
    want = expected_bars(trades, BAR, trades[-1].ts)
    bars = decoded(await pipeline.read("market.bars.5s", len(want)))
    assert_bars_equal(bars, SYMBOL, want)


@pytest.mark.parametrize(
    ("written", "error"),
    [
        ("by another version", "KeyError"),  # a whole record, a state this one cannot read
        ("by another writer", "CorruptRecord"),  # not a record of this format at all
    ],
)
async def test_a_failing_step_dead_letters_its_input_and_the_rest_goes_on(
    pipeline: Pipeline, written: str, error: str
) -> None:
    start = (SystemClock().now_ns() // (60 * S) - 30) * 60 * S
    warmup = [Trade(symbol="OKA", ts=start, price=100, size=1)]
    worker = pipeline.start_worker()
    await publish(pipeline.settings, one_trade_frames(warmup))
    await pipeline.read("market.clean", 1)
    assert worker.stop() == 0

    # a record for BAD that this version cannot read, flushed as a whole (its marker follows)
    changelog = f"{pipeline.env['MARKETPULSE_WORKER_ID']}-bar-state-changelog"
    other = checkpoints.compress(b'{"format": "from another version"}')
    unreadable = (
        checkpoints.pack(10**6, 0, other, None) if written == "by another version" else b"BAD"
    )
    marker = (checkpoints.marker_key(0), checkpoints.marker(10**6))
    await produce(pipeline.settings, changelog, [(b"BAD", unreadable), marker])

    trades = [
        Trade(symbol=symbol, ts=start + S + i * S, price=100 + (i * 7) % 11, size=1 + i % 3)
        for i in range(40)
        for symbol in ("OKA", "BAD")
    ]
    pipeline.start_worker()
    await publish(pipeline.settings, one_trade_frames(trades))

    ok = warmup + [t for t in trades if t.symbol == "OKA"]
    want = expected_bars(ok, BAR, ok[-1].ts)
    bars = decoded(await pipeline.read("market.bars.5s", len(want)))
    assert_bars_equal(bars, "OKA", want)
    assert not [b for b in bars if b["symbol"] == "BAD"]
    letters = decoded(await pipeline.read("market.deadletter", 40))
    assert {(d["key"], d["reason"]) for d in letters} == {("BAD", "processing_error")}
    assert len({d["offset"] for d in letters}) == 40  # each of BAD's frames, none skipped
    assert all(str(d["detail"]).startswith(error) for d in letters)
    assert pipeline.workers[-1].proc.poll() is None
