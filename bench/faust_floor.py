"""What any Faust worker of ``market.raw`` costs around the engine: a floor under the worker's
overhead over the engine alone, from one run.

    .venv/bin/python bench/faust_floor.py [--quotes N] [--symbols N] [--frame-size N] [--faust JSON]

On the same frames (1 s bars, the default indicators and detectors), each worker draining a copy
of its own, CPU per frame:

1. the engine alone: the worker's step with no broker (:func:`engine_step.work_alone`);
2. a consumer: the worker's own Faust app (its consumer, commit and batches) with one agent that
   takes each frame's event and does nothing with it (``bench/floor_worker.py``);
3. the same app sending, for each frame, the records the engine gave that frame, already encoded,
   through the worker's batches: Faust's and aiokafka's part of a worker with none of ours (no
   engine, no states, no metrics but one counter);
4. the worker itself.

The worker's target, at most 1.3 times the engine alone's CPU per frame, can hold only if 3 is at
most 0.3 of 1: what 3 costs is Faust's stream of events and aiokafka's consumer and producer,
which the design card's Faust agents take as they are. ``--faust``: Faust settings for both
floor workers (a JSON object), to see what one changes. Needs the local services.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import pickle
import tempfile
from collections import defaultdict
from pathlib import Path

from engine_step import bench_settings, work_alone
from pipeline import S, drain, frames, produce
from results import emit
from topics import own_topics

from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.step_io import MemoryStore, Message
from marketpulse.analytics.steps import apply_frame
from marketpulse.clock import SystemClock
from marketpulse.settings import Settings
from marketpulse.streams.sources.synthetic import SyntheticMarket
from marketpulse.streams.topics import partition_of

FLOOR = ("bench/floor_worker.py",)
Records = dict[bytes, list[list[tuple[str, int, bytes | None, bytes]]]]


def engine_records(settings: Settings, backlog: list[tuple[bytes, bytes]]) -> Records:
    """Per key of ``market.raw``, a list per frame of the records the step sends for it (topic
    by its name in the pipeline, partition, key, value), encoded and partitioned as the
    worker's outbox does."""
    config, time_, store = settings.step_config(), PartitionTime(), MemoryStore()
    now, partitions, spread = SystemClock().now_ns(), settings.topic_partitions, itertools.count()
    out: defaultdict[bytes, list[list[tuple[str, int, bytes | None, bytes]]]] = defaultdict(list)
    for offset, (key, payload) in enumerate(backlog):
        outputs = apply_frame(store, time_, Message("market.raw", 0, offset, key, payload), now,
                              config)  # fmt: skip
        records = []
        for send in outputs.sends:
            value = send.record if isinstance(send.record, bytes) else (
                send.record.model_dump_json().encode()
            )  # fmt: skip
            to = send.key
            partition = next(spread) % partitions if to is None else partition_of(to, partitions)
            records.append((send.topic, partition, to, value))
        out[key].append(records)
        store.write(outputs)
    return dict(out)


async def floor(
    backlog: list[tuple[bytes, bytes]],
    records: Records | None,
    frame_size: int,
    port: int,
    faust: str = "{}",
) -> float:
    """A floor worker's CPU per frame over its own copy of ``backlog``, sending ``records`` (None:
    nothing), with the Faust settings ``faust`` (JSON)."""
    async with own_topics(bench_settings(Settings())) as settings:
        if records is None:
            records = {key: [[] for _ in per_key] for key, per_key in _keys(backlog).items()}
        path = Path(tempfile.gettempdir()) / f"{settings.topic_prefix}records.pickle"
        path.write_bytes(pickle.dumps(on_topics(settings, records)))
        try:
            await produce(settings, backlog)
            worker, _, _, cpu = await drain(
                settings, {}, port, len(backlog) * frame_size, frame_size,
                command=(*FLOOR, str(path), str(frame_size), faust),
            )  # fmt: skip
            worker.terminate()
            worker.wait(30)
        finally:
            path.unlink()
    return cpu


def on_topics(settings: Settings, records: Records) -> Records:
    """``records`` with each topic by its name under ``settings``' prefix."""
    return {
        key: [[(settings.topic(topic), p, k, v) for topic, p, k, v in frame] for frame in per_key]
        for key, per_key in records.items()
    }


def _keys(backlog: list[tuple[bytes, bytes]]) -> dict[bytes, list[bytes]]:
    out: defaultdict[bytes, list[bytes]] = defaultdict(list)
    for key, payload in backlog:
        out[key].append(payload)
    return out


async def whole_worker(backlog: list[tuple[bytes, bytes]], frame_size: int, port: int) -> float:
    async with own_topics(bench_settings(Settings())) as settings:
        await produce(settings, backlog)
        worker, _, _, cpu = await drain(settings, {}, port, len(backlog) * frame_size, frame_size)
        worker.terminate()
        worker.wait(30)
    return cpu


async def run(args: argparse.Namespace) -> None:
    market = SyntheticMarket([f"F{i:03d}" for i in range(args.symbols)], seed=6)
    slices = max(1, args.quotes // (args.symbols * args.frame_size))
    start = (SystemClock().now_ns() // S - 7200) * S
    backlog = frames(market, start, slices, args.frame_size)
    settings = bench_settings(Settings())
    records = engine_records(settings, backlog)
    sent = sum(len(frame) for per_key in records.values() for frame in per_key)
    size = sum(len(r[3]) for per_key in records.values() for frame in per_key for r in frame)
    alone = [work_alone(settings, backlog)]
    consumer = await floor(backlog, None, args.frame_size, 9397, args.faust)
    sending = await floor(backlog, records, args.frame_size, 9398, args.faust)
    worker = await whole_worker(backlog, args.frame_size, 9399)
    alone.append(work_alone(settings, backlog))
    engine = min(alone)  # the turn the machine's noise disturbed least (pipeline.share_in_turns)
    per_million = 1e6 / args.frame_size
    print(f"frames: {len(backlog)} x {args.frame_size} quotes, {args.symbols} symbols, 1s bars; "
          f"the engine sends {sent / len(backlog):.1f} records a frame, "
          f"{size / len(backlog):,.0f} bytes")  # fmt: skip
    print("                                  us a frame   CPU s per 1M quotes   over the engine")
    for name, cpu in (
        ("the engine alone", engine),
        ("Faust: a consumer", consumer),
        ("Faust: the engine's records sent", sending),
        ("the worker", worker),
    ):
        print(f"{name:<34} {cpu * 1e6:>9,.0f} {cpu * per_million:>21.2f} {cpu / engine:>17.2f}")
    rest = worker - sending - engine
    print(f"the worker less the engine alone and Faust's floor: {rest * 1e6:,.0f} us a frame, "
          f"{rest / engine:.2f} of the engine (the engine's own slowdown in a larger process, "
          "the states, the metrics and our agent code)")  # fmt: skip
    emit("Faust floor, a consumer, CPU per frame over the engine alone's", consumer / engine, "x",
         lower_is_better=True)  # fmt: skip
    emit("Faust floor, the engine's records sent, CPU per frame over the engine alone's",
         sending / engine, "x", 0.3, lower_is_better=True)  # fmt: skip
    emit("the worker's CPU per frame over the engine alone's (beside the floor)", worker / engine,
         "x", 1.3, lower_is_better=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quotes", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=8)
    parser.add_argument("--frame-size", type=int, default=200)
    parser.add_argument("--faust", default="{}", help="Faust settings of the floor workers, JSON")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
