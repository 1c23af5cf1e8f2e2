"""The synthetic source publishes what it says it publishes, through the real broker, and
records each run as a job."""

from __future__ import annotations

import itertools

import asyncpg
import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import ConsumerRecord

from marketpulse.clock import SystemClock
from marketpulse.errors import RecordTooLarge
from marketpulse.schemas.events import Frame
from marketpulse.settings import Settings
from marketpulse.storage.repositories.jobs import JobRepository
from marketpulse.streams.sources.synthetic import (
    SyntheticMarket,
    SyntheticRun,
    history_steps,
    run_synthetic,
)
from tests.kafka_helpers import consume_until, unique

pytestmark = [pytest.mark.integration]

Records = list[ConsumerRecord[bytes, bytes]]
S = 1_000_000_000


def _symbols(count: int) -> list[str]:
    return [unique("SYN").upper().replace("-", "") for _ in range(count)]


async def _published(settings: Settings, symbols: list[str], events: int) -> Records:
    keys = {s.encode() for s in symbols}

    def ours(records: Records) -> Records:
        return [r for r in records if r.key in keys]

    def count(records: Records) -> int:
        return sum(len(Frame.model_validate_json(r.value).events) for r in ours(records))

    records = ours(
        await consume_until(
            settings, [settings.topic("market.raw")], lambda rs: count(rs) >= events
        )
    )
    assert count(records) == events
    return records


async def _job_of(pool: asyncpg.Pool, symbols: list[str]) -> tuple[str, int, dict[str, int]]:
    jobs = JobRepository(pool)
    job = next(j for j in await jobs.recent(limit=500) if j.symbols == symbols)
    results = {r.symbol: r.records for r in await jobs.results(job.job_id)}
    return job.status, job.records_processed, results


async def test_paced_frames_arrive_keyed_by_symbol_and_the_run_is_a_job(
    services: Settings, pool: asyncpg.Pool
) -> None:
    symbols = _symbols(3)
    settings = services.model_copy(update={"topic_prefix": unique("syn") + "."})
    run = SyntheticRun(symbols, seed=11, rate=600, frame_size=10, duration_s=0.5)
    published = await run_synthetic(settings, run)
    assert published > 0
    records = await _published(settings, symbols, published)
    for record in records:
        frame = Frame.model_validate_json(record.value)
        assert {e.symbol for e in frame.events} == {record.key.decode()}
    status, total, per_symbol = await _job_of(pool, symbols)
    assert (status, total) == ("succeeded", published)
    assert set(per_symbol) == set(symbols)


async def test_worker_processes_share_the_symbols_and_report_to_one_job(
    services: Settings, pool: asyncpg.Pool
) -> None:
    symbols = _symbols(4)
    settings = services.model_copy(update={"topic_prefix": unique("syn") + "."})
    run = SyntheticRun(symbols, seed=3, rate=None, frame_size=50, events=2_000, workers=2)
    published = await run_synthetic(settings, run)
    assert published >= 2_000
    records = await _published(settings, symbols, published)
    status, total, per_symbol = await _job_of(pool, symbols)
    assert (status, total) == ("succeeded", published)
    assert sum(per_symbol.values()) == published
    # the same seed gives each symbol the same stream in one process as in a worker
    first = min((r for r in records if r.key == symbols[0].encode()), key=lambda r: r.offset)
    sent = Frame.model_validate_json(first.value)
    alone = SyntheticMarket([symbols[0]], seed=3)
    expected = alone.frame(symbols[0], sent.events[0].ts, sent.received_ts, 50)
    assert expected.events == sent.events


async def test_frames_over_the_record_limit_stop_the_run_with_a_clear_error(
    services: Settings, pool: asyncpg.Pool
) -> None:
    symbols = _symbols(1)
    settings = services.model_copy(
        update={"topic_prefix": unique("syn") + ".", "kafka_max_message_bytes": 64 << 10}
    )
    run = SyntheticRun(symbols, seed=3, rate=None, frame_size=2000, events=2000)
    with pytest.raises(RecordTooLarge, match=r"--frame-size"):
        await run_synthetic(settings, run)
    status, total, _ = await _job_of(pool, symbols)
    assert (status, total) == ("failed", 0)


def _timeline(records: Records, symbol: str) -> list[tuple[int, int]]:
    """A symbol's frames in offset order, each as (first event time, received time)."""
    frames = [
        Frame.model_validate_json(r.value)
        for r in sorted(records, key=lambda r: r.offset)
        if r.key == symbol.encode()
    ]
    return [(f.events[0].ts, f.received_ts) for f in frames if f.events]


def _sharing_a_partition(settings: Settings, count: int) -> list[str]:
    """``count`` new symbols that the producer's partitioner puts in one partition of a topic."""
    partitioner = DefaultPartitioner()
    partitions = list(range(settings.topic_partitions))
    by_partition: dict[int, list[str]] = {}
    while True:
        symbol = _symbols(1)[0]
        group = by_partition.setdefault(partitioner(symbol.encode(), partitions, partitions), [])
        group.append(symbol)
        if len(group) == count:
            return group


def _past_and_live(timeline: list[tuple[int, int]]) -> tuple[list[int], list[tuple[int, int]]]:
    """A run's frames split where live begins: the past's received times, and the live frames
    from the past's last.

    Every step of the past ends on a whole minute but the last, which ends where live begins, at
    the time the clock gave; so the past ends at the first frame received off a minute. Whether
    a frame starts where the one before ended cannot tell: a last step shorter than the stretch
    a history frame's events fill starts there too."""
    last_past = next(i for i, (_, received) in enumerate(timeline) if received % (60 * S))
    return [received for _, received in timeline[: last_past + 1]], timeline[last_past:]


def _never_late(records: Records, grace_ns: int) -> None:
    """Every event at most the grace period behind its partition's stream time, as the gate
    holds it: symbols that share a partition lose none of their past."""
    for partition in {r.partition for r in records}:
        stream_time = 0
        for record in sorted(
            (r for r in records if r.partition == partition), key=lambda r: r.offset
        ):
            for event in Frame.model_validate_json(record.value).events:
                assert event.ts >= stream_time - grace_ns, (record.key, event.ts, stream_time)
                stream_time = max(stream_time, event.ts)


async def test_history_comes_first_then_live_with_no_gap_and_a_restart_fills_only_its_own(
    services: Settings, pool: asyncpg.Pool
) -> None:
    settings = services.model_copy(update={"topic_prefix": unique("syn") + "."})
    symbols = _sharing_a_partition(settings, 2)
    started = SystemClock().now_ns()
    history_s = 8 * 3600
    run = SyntheticRun(symbols, seed=5, rate=400, frame_size=10, duration_s=0.5,
                       history_s=history_s)  # fmt: skip
    first = await run_synthetic(settings, run)
    records = await _published(settings, symbols, first)
    _never_late(records, settings.grace_ms * 1_000_000)
    for symbol in symbols:
        timeline = _timeline(records, symbol)
        past, live = _past_and_live(timeline)
        # eight hours of the past, oldest first: a frame a minute over the last six, every five
        # minutes before; each frame's events just before it was received
        live_from = past[-1]
        assert started <= live_from
        steps = history_steps(live_from - history_s * S, live_from)
        assert past == [end for _, end in steps]
        assert [end - start for start, end in steps[1:]].count(5 * 60 * S) >= 23
        assert all(received - S <= ts < received for ts, received in timeline[: len(past)])
        # then live, each frame starting where the one before it was received: no gap
        assert len(live) > 1
        assert all(b[0] == a[1] for a, b in itertools.pairwise(live))

    # a restart after a pause: its history covers the pause only, from where market.raw ended
    ended = max(t[1] for symbol in symbols for t in _timeline(records, symbol))
    again = SyntheticRun(symbols, seed=6, rate=400, frame_size=10, duration_s=0.5,
                         history_s=history_s)  # fmt: skip
    second = await run_synthetic(settings, again)
    records = await _published(settings, symbols, first + second)
    _never_late(records, settings.grace_ms * 1_000_000)
    for symbol in symbols:
        later = [t for t in _timeline(records, symbol) if t[1] > ended]
        past, live = _past_and_live(later)
        assert ended <= later[0][0]
        assert past == [end for _, end in history_steps(ended, past[-1])]
        assert all(b[0] == a[1] for a, b in itertools.pairwise(live))
