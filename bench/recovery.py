"""A fresh worker taking over many symbols' state from the changelogs: how long until it
consumes again, and until every symbol has taken a step on what it recovered.

    .venv/bin/python bench/recovery.py [--symbols 10000] [--frame-size 20]

1. a scratch InfluxDB database holds each symbol's lookback of bars on the default
   granularities (and indicators), so the first worker warms every series as a live start does;
2. that worker takes one frame per symbol (its series warmed, then stepped) and, once it has
   committed them all (its states in the changelogs), is stopped as a deployment stops it;
3. one more frame per symbol is produced, and a fresh worker with the same id (the same group
   and changelogs, an empty in-memory store) is started. Timed from its start: its partitions
   assigned (by its log; the group protocol's part, which on this broker includes waiting for
   the stopped worker's session to run out), and from that assignment, by its log and by the
   records it sends: its tables read back from the changelogs, its first frame stepped (it has
   resumed), and the last symbol's (each symbol's states are decoded on its first step, so
   this includes decoding all of them). The target is on that last figure;
4. that figure also holds the stepping of a frame per symbol, which costs a worker with every
   state decoded about as much: a second frame per symbol, produced with the first, is
   stepped after it, and the time from the last symbol's first frame to its second says what
   the stepping alone takes, so that the rest is what the recovery costs.

Beside it, the same fresh start on topics of its own with no state (one symbol, one frame): the
worker's start alone (the interpreter, Faust, joining the group).
Needs the local services, ``MARKETPULSE_KAFKA_TANSU_COMPAT=1`` on Tansu (``make`` sets it:
without it a recovery stops short of each changelog partition's last batch), and memory:
10,000 symbols are about 3 GB in each worker.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer
from engine_step import bench_settings
from forming_worker import history
from pipeline import S, frames, produce, start_worker, worker_env
from results import emit
from topics import own_topics
from warmup import store_afresh

from marketpulse.clock import SystemClock
from marketpulse.settings import Settings
from marketpulse.storage.influx import InfluxClient
from marketpulse.streams.lag import group_lag
from marketpulse.streams.sources.synthetic import SyntheticMarket

DATABASE = "bench_recovery"
PORT = 9399
TARGET_S = 10.0


def _env(settings: Settings) -> dict[str, str]:
    return {
        **worker_env(settings, PORT),
        "MARKETPULSE_GRANULARITIES": json.dumps(Settings().granularities),
        "MARKETPULSE_INFLUX_DATABASE": DATABASE,
    }


@dataclass
class Start:
    """A fresh worker's start, in seconds after its process started: its partitions assigned
    (its tables' changelogs start to be read), that read done, its first frame stepped and the
    last; and the last of the frames of the next second (None: there were none)."""

    assigned: float
    read: float
    first: float
    last: float
    again: float | None = None


async def fresh_start(
    settings: Settings, after: int, frames_: int, settle: bool = False, seconds: int = 1
) -> Start:
    """Start a worker and time it: the assignment and the changelogs' read by its log, the
    steps by what it sends, each frame's accepted events on ``market.clean`` (of events at
    ``after`` or later, one frame a symbol for each of ``seconds``: the record goes out once
    the step is done). The
    records' timestamps say when the worker sent them, so watching costs the worker nothing (a
    scrape of its metrics costs it milliseconds, with many symbols). ``settle``: stop it only
    once its group has committed every offset (so its last states are in the changelogs; what
    a worker did after its last commit is done again by the next)."""
    consumer = AIOKafkaConsumer(
        settings.topic("market.clean"),
        bootstrap_servers=settings.bootstrap_servers(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    log = Path(tempfile.gettempdir()) / f"{settings.topic_prefix}recovery.log"
    try:
        started = time.time()
        worker = start_worker(_env(settings), log)
        try:
            # per second: symbol -> when its frame's record was sent (ms)
            sent: list[dict[bytes, int]] = [{} for _ in range(seconds)]
            deadline = time.monotonic() + 1800
            while sum(map(len, sent)) < frames_ * seconds:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{sum(map(len, sent)):,} of {frames_ * seconds:,} "
                                       "frames stepped in 1800 s")  # fmt: skip
                batch = await consumer.getmany(timeout_ms=500)
                for record in (r for records in batch.values() for r in records):
                    second = (orjson.loads(record.value)["events"][0]["ts"] - after) // S
                    if record.key and 0 <= second < seconds:
                        sent[second].setdefault(record.key, record.timestamp)
            while settle and (await group_lag(settings, [settings.worker_id]))[settings.worker_id]:
                if time.monotonic() > deadline:
                    raise RuntimeError("the worker's group still lags after 1800 s")
                await asyncio.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(120)
    finally:
        await consumer.stop()
    times = sorted(ms / 1e3 - started for ms in sent[0].values())
    print("  frames stepped, seconds after the worker's start: first, each tenth, last: "
          + " ".join(f"{times[min(len(times) - 1, len(times) * i // 10)]:.1f}"
                     for i in range(11)))  # fmt: skip
    text = log.read_text(errors="replace")
    return Start(
        _assigned(text) - started,
        _when(_last(text, "Recovery complete")) - started,
        times[0],
        times[-1],
        max(sent[1].values()) / 1e3 - started if seconds > 1 else None,
    )


_HIGHWATER = "Highwater for active changelog partitions"  # Faust, as its recovery starts


def _assigned(text: str) -> float:
    """When the worker's last assignment began to be handled: its tables' first bulk read
    (``marketpulse.tables.store``), which Faust awaits before its recovery starts, else that
    recovery's start (a worker whose tables have no bulk read)."""
    lines = text.splitlines()
    at = [i for i, line in enumerate(lines) if _HIGHWATER in line]
    since = at[-2] if len(at) > 1 else 0
    reads = [line for line in lines[since : at[-1]] if "changelog partitions" in line]
    return _when(reads[0] if reads else lines[at[-1]])


def _last(text: str, message: str) -> str:
    """The last line of the worker's log with ``message``."""
    return next(line for line in reversed(text.splitlines()) if message in line)


def _when(line: str) -> float:
    """When the worker logged ``line`` (its log's local time), as a Unix time."""
    return dt.datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").astimezone().timestamp()


async def run(args: argparse.Namespace) -> None:
    base = Settings()
    store = base.model_copy(update={"influx_database": DATABASE})
    market = SyntheticMarket([f"RC{i:05d}" for i in range(args.symbols)], seed=11)
    start = (SystemClock().now_ns() // S - 7200) * S
    began = time.perf_counter()
    await store_afresh(store, history(store, market.symbols, start))
    print(f"history of {args.symbols:,} symbols stored in {time.perf_counter() - began:.0f} s")
    try:
        async with own_topics(bench_settings(base)) as alone:
            await produce(alone, frames(SyntheticMarket(["RC-ALONE"], seed=1), start, 1, 20))
            empty = await fresh_start(alone, start, 1)
        async with own_topics(bench_settings(base)) as settings:
            await produce(settings, frames(market, start, 1, args.frame_size))
            first = await fresh_start(settings, start, args.symbols, settle=True)
            series = args.symbols * len(base.granularities)
            print(f"first worker: {series:,} series warmed and stepped {first.last:.0f} s "
                  "after its start")  # fmt: skip
            await produce(settings, frames(market, start + S, 2, args.frame_size))
            taken = await fresh_start(settings, start + S, args.symbols, seconds=2)
    finally:
        async with InfluxClient(store) as influx:
            await influx.query(f'DROP DATABASE "{DATABASE}"')
    print(f"a fresh worker with no state: assigned its partitions {empty.assigned:.1f} s "
          f"after its start, its first frame stepped {empty.first - empty.assigned:.1f} s "
          "later")  # fmt: skip
    print(f"a fresh worker over {args.symbols:,} symbols' state: assigned its partitions "
          f"{taken.assigned:.1f} s after its start (the broker's group protocol), then its "
          f"changelogs read in {taken.read - taken.assigned:.1f} s, its first frame stepped "
          f"{taken.first - taken.assigned:.1f} s and the last symbol's "
          f"{taken.last - taken.assigned:.1f} s after the assignment (target "
          f"{TARGET_S:.0f} s)")  # fmt: skip
    assert taken.again is not None
    stepping = taken.again - taken.last
    print(f"  the next frame of every symbol, its states decoded: stepped in {stepping:.1f} s "
          f"more; so the recovery's own part of the last figure is about "
          f"{taken.last - taken.assigned - stepping:.1f} s")  # fmt: skip
    emit("a fresh worker with no state: seconds from its start to its partitions assigned",
         empty.assigned, "s", lower_is_better=True)  # fmt: skip
    emit(f"a fresh worker over {args.symbols:,} symbols' state: seconds from its start to its "
         "partitions assigned", taken.assigned, "s", lower_is_better=True)  # fmt: skip
    emit(f"a fresh worker over {args.symbols:,} symbols' state: seconds from the assignment to "
         "its changelogs read", taken.read - taken.assigned, "s", lower_is_better=True)  # fmt: skip
    emit(f"a fresh worker over {args.symbols:,} symbols' state: seconds from the assignment to "
         "every symbol stepped", taken.last - taken.assigned, "s", TARGET_S,
         lower_is_better=True)  # fmt: skip
    emit("the same worker: seconds to step every symbol's next frame, its states decoded",
         stepping, "s", lower_is_better=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--frame-size", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
