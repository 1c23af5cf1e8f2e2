"""Where a worker's CPU goes: py-spy samples one worker draining a backlog, and each sample is
put down to the layer it was in.

    .venv/bin/python bench/profile_worker.py [--quotes N] [--symbols N] [--frame-size N]

The worker takes the frames from market.raw as in ``bench/pipeline.py`` (1s bars, the default
indicators and detectors). py-spy (a sampling profiler: it reads the worker's stacks from
outside, pausing it for each of a hundred samples a second) records with native frames, so time
inside the compiled analytics counts as the engine's, not as its Python caller's. A sample
belongs to the layer of the innermost frame that names one: a sample in aiokafka's record
encoding under the producer is the producer's, one in pydantic under the engine is the engine's,
and a changelog send under a table write is the table's. Needs the local services and root
(py-spy attaches with ptrace).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from engine_step import bench_settings
from pipeline import S, frames, produce, start_worker, worker_env
from proc import cpu_seconds
from results import emit
from topics import own_topics

from marketpulse.clock import SystemClock
from marketpulse.settings import Settings
from marketpulse.streams.lag import group_lag
from marketpulse.streams.sources.synthetic import SyntheticMarket

ENGINE = "the engine (gate, bars, series, encoding)"
LOOP = "the event loop and scheduling"
# Innermost match wins; each pattern is a substring of py-spy's frame text (function and file).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (ENGINE, ("marketpulse/analytics/", "marketpulse__mypyc", "__native_marketpulse")),
    ("metrics (prometheus_client)", ("prometheus_client/", "marketpulse/metrics")),
    ("the delivery guard", ("marketpulse/streams/delivery",)),
    ("tables and changelog", ("faust/tables/", "faust/stores/", "marketpulse/tables/")),
    ("the producer (aiokafka)", ("aiokafka/producer/",)),
    ("the consumer (aiokafka fetcher)", ("aiokafka/consumer/",)),
    ("faust's stream and event machinery", ("faust/", "mode/")),
    ("our worker code (agents, outputs, warm-up)", ("marketpulse/",)),
]
# Frames that say only what was done, not for whom: the layer is the caller's.
PASS_THROUGH = ("aiokafka/record/", "aiokafka/conn", "aiokafka/protocol/", "pydantic", "orjson")


# Where a thread sleeps: with native frames py-spy cannot always tell an idle thread, so a
# sample that ends in one of these is waiting, not using the CPU.
WAITS = ("epoll_pwait", "epoll_wait", "poll (", "select (", "pthread_cond_", "sem_", "futex")
# The Python frames that run a thread's event loop: a sample with nothing but native frames
# below one of them is the loop polling (its libc frames often unnamed), not work.
LOOP_RUNNERS = (
    "ServiceThread._start_thread", "Worker.execute_from_commandline", "serve_forever",
    "run_forever",
)  # fmt: skip


def layer_of(stack: list[str]) -> str | None:
    """The layer of one sample (its frames from the root to the innermost); None: waiting."""
    if stack and stack[-1].startswith(WAITS):
        return None
    innermost_python = next((frame for frame in reversed(stack) if ".py:" in frame), "")
    if innermost_python.startswith(LOOP_RUNNERS):
        return None
    for frame in reversed(stack):
        if any(p in frame for p in PASS_THROUGH):
            continue
        for name, patterns in LAYERS:
            if any(p in frame for p in patterns):
                return name
    if any("aiokafka/" in frame for frame in stack):
        return "broker connections (aiokafka, no caller of ours)"
    if any(p in frame for frame in stack for p in ("asyncio/", "selectors", "uvloop", "loop.c")):
        return LOOP
    return "other (interpreter, garbage collection, libraries)"


def read_samples(path: Path) -> list[tuple[list[str], int]]:
    """py-spy's ``raw`` output: one collapsed stack per line, its frames joined by ``;``,
    then its count."""
    out = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            out.append((stack.split(";"), int(count)))
    return out


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on the process, until interrupted; its own messages go beside the output."""
    with out.with_suffix(".log").open("wb") as messages:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--native",
             "--rate", "100", "--format", "raw", "--output", str(out)],
            stdout=messages, stderr=subprocess.STDOUT,
        )  # fmt: skip


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of each of the process's threads, by thread name."""
    out: dict[str, float] = collections.Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        name = (task / "comm").read_text().strip()
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        out[name] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


async def drain_profiled(
    settings: Settings, quotes: int, out: Path
) -> tuple[float, float, dict[str, float]]:
    """Start a worker on the backlog, profile it until it has caught up; its CPU seconds and
    wall seconds meanwhile."""
    log = Path(tempfile.gettempdir()) / f"{settings.topic_prefix}worker.log"
    worker = start_worker(worker_env(settings, 9395), log)
    spy = start_profiler(worker.pid, out)
    try:
        cpu_started, started = cpu_seconds(worker.pid), time.perf_counter()
        while True:
            if (await group_lag(settings, [settings.worker_id]))[settings.worker_id] == 0:
                break
            await asyncio.sleep(0.5)
        cpu, wall = cpu_seconds(worker.pid) - cpu_started, time.perf_counter() - started
        threads = thread_cpu(worker.pid)
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its samples on an interrupt
        spy.wait(60)
        worker.terminate()
        worker.wait(30)
    return cpu, wall, threads


async def run(args: argparse.Namespace) -> None:
    market = SyntheticMarket([f"P{i:03d}" for i in range(args.symbols)], seed=4)
    slices = max(1, args.quotes // (args.symbols * args.frame_size))
    start = (SystemClock().now_ns() // S - 7200) * S
    backlog = frames(market, start, slices, args.frame_size)
    out = Path(tempfile.gettempdir()) / f"profile-{uuid.uuid4().hex[:8]}.txt"
    async with own_topics(bench_settings(Settings())) as settings:
        await produce(settings, backlog)
        cpu, wall, threads = await drain_profiled(settings, len(backlog) * args.frame_size, out)
    samples = read_samples(out)
    by_layer: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    for stack, count in samples:
        layer = layer_of(stack)
        if layer is not None:
            by_layer[layer] += count
            by_function[stack[-1]] += count
    total = by_layer.total()
    quotes = len(backlog) * args.frame_size
    print(f"frames: {len(backlog)} x {args.frame_size} quotes, {args.symbols} symbols, 1s bars")
    per_million = cpu / quotes * 1e6
    print(f"worker: {cpu:.1f} CPU s over {wall:.1f} s, {per_million:.2f} CPU s per 1M quotes")
    print("CPU seconds by thread, over the worker's life: " + ", ".join(
        f"{name} {seconds:.1f}" for name, seconds in sorted(threads.items(), key=lambda t: -t[1])
    ))  # fmt: skip
    print(f"py-spy: {total:,} samples of the worker on the CPU (native frames included)")
    print(f"{'layer':<52} {'share':>7} {'CPU s per 1M quotes':>20}")
    for name, count in by_layer.most_common():
        share = count / total
        print(f"{name:<52} {share:>7.1%} {share * per_million:>20.2f}")
    print("\nthe innermost frames that took most samples:")
    for frame, count in by_function.most_common(args.top):
        print(f"{count / total:>7.1%}  {frame[:140]}")
    print(f"\n(the whole profile, py-spy's raw format: {out})")
    for name, count in by_layer.items():
        emit(f"worker profile: {name}", count / total * 100, "%")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quotes", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=8)
    parser.add_argument("--frame-size", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
