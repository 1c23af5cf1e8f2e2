"""Replay files onto the pipeline: OHLCV rows as ready-made bars on ``market.bars.<g>``, or
ticks as frames on ``market.raw``; as fast as possible or at N times the recorded pace.

Any number of files (or directories of them), each holding one symbol (named by a ``symbol``
column or the file's stem) or many. Records of every file are merged in event time, so a paced
replay of many symbols interleaves them as the market did. A replay is recorded as a job.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
from pydantic import BaseModel
from tqdm import tqdm

from marketpulse.analytics.conditions import ConditionTable
from marketpulse.analytics.granularity import parse_granularity
from marketpulse.conditions import mark
from marketpulse.files.long_csv import candles
from marketpulse.files.ohlcv import InputError, ohlcv_series, read_table
from marketpulse.files.ticks import is_tick_file, read_ticks
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Event, Frame
from marketpulse.settings import Settings
from marketpulse.streams.sources.job_runs import Tally, job_run
from marketpulse.streams.sources.publisher import Publisher
from marketpulse.streams.topics import BARS_RAW, RAW

SOURCE = "replay"
SUFFIXES = (".csv", ".parquet", ".pq")

Record = tuple[int, str, BaseModel]  # event time, symbol (the key), record


def bar_records(
    path: Path, symbol: str | None, granularity: str, table: pd.DataFrame | None = None
) -> list[Record]:
    """(event time, symbol, bar) for every row of an OHLCV file (``table``: its rows, when
    already read)."""
    length = parse_granularity(granularity)
    records: list[Record] = []
    rows = read_table(path) if table is None else table
    for series in ohlcv_series(path, rows, symbol):
        for candle in candles(series):
            bar = Bar(
                symbol=series.symbol, granularity=granularity, start=candle.ts,
                end=candle.ts + length, open=candle.open, high=candle.high, low=candle.low,
                close=candle.close, volume=candle.volume,
            )  # fmt: skip
            records.append((candle.ts, series.symbol, bar))
    return records


def frame_records(
    path: Path, table: pd.DataFrame, symbol: str | None, frame_size: int
) -> list[Record]:
    """(event time, symbol, frame) from a tick file's rows: up to ``frame_size`` consecutive
    events of one symbol, stamped with (and ordered by) the time of their last event."""
    by_symbol: dict[str, list[Event]] = {}
    for event in read_ticks(path, table, symbol, SOURCE):
        by_symbol.setdefault(event.symbol, []).append(event)
    records: list[Record] = []
    for name, mine in by_symbol.items():
        for i in range(0, len(mine), frame_size):
            part = mine[i : i + frame_size]
            last = part[-1].ts
            records.append((last, name, Frame(source=SOURCE, received_ts=last, events=part)))
    records.sort(key=lambda r: r[0])
    return records


def files_in(inputs: Sequence[Path]) -> list[Path]:
    """The files named, and the data files inside the directories named."""
    paths: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
            if not found:
                raise InputError(f"{path}: no {', '.join(SUFFIXES)} files")
            paths += found
        else:
            paths.append(path)
    return paths


def load(
    inputs: Sequence[Path], symbol: str | None, granularity: str, frame_size: int
) -> list[Record]:
    """Read every file (bars or ticks, by its columns); their records in event time."""
    records: list[Record] = []
    for path in files_in(inputs):
        table = read_table(path)
        if is_tick_file([str(c).strip().lower() for c in table.columns]):
            records += frame_records(path, table, symbol, frame_size)
        else:
            records += bar_records(path, symbol, granularity, table)
    records.sort(key=lambda r: r[0])  # stable: each symbol keeps its file order
    return records


def _destination(record: BaseModel) -> tuple[str, int]:
    """The topic a record goes to and how many events it counts for."""
    if isinstance(record, Frame):
        return RAW.name, len(record.events)
    if isinstance(record, Bar):
        return BARS_RAW.name, 1
    raise TypeError(f"cannot replay a {type(record).__name__}")


async def publish(
    settings: Settings,
    records: Sequence[Record],
    speed: float | None = None,
    tally: Tally | None = None,
    conditions: ConditionTable | None = None,
) -> int:
    """Send every record keyed by its symbol; pace by event time when ``speed`` is given; with
    a condition table, each trade marked by it as a live source marks its trades."""
    async with Publisher(settings, SOURCE, tally) as out:
        started, first_ts = time.monotonic(), records[0][0] if records else 0
        for ts, symbol, record in _progress(records):
            if speed:
                delay = started + (ts - first_ts) / 1e9 / speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing a replay, not synchronisation
            if conditions is not None and isinstance(record, Frame):
                record = record.model_copy(update={"events": mark(record.events, conditions)})
            name, count = _destination(record)
            await out.send(name, symbol, record, records=count)
    return len(records)


def _progress(records: Sequence[Record]) -> Iterator[Record]:
    if len(records) < 1000:
        return iter(records)
    return iter(tqdm(records, desc="replay", unit="msg", file=sys.stderr, disable=None))


async def replay(
    settings: Settings,
    inputs: Sequence[Path],
    symbol: str | None,
    granularity: str,
    speed: float | None,
    frame_size: int = 100,
    conditions: ConditionTable | None = None,
) -> str:
    """Replay files as one job; return a one-line summary."""
    records = load(inputs, symbol, granularity, frame_size)
    symbols = sorted({r[1] for r in records})
    kinds = sorted({_destination(r[2])[0] for r in records})
    async with job_run(settings, symbols, "replay:" + ",".join(kinds)[:40]) as run:
        sent = await publish(settings, records, speed, run.tally, conditions)
    return (
        f"published {sent} messages ({run.tally.records} events or bars) of "
        f"{len(symbols)} symbols to {', '.join(settings.topic(k) for k in kinds)}; "
        f"job {run.job.job_id}"
    )
