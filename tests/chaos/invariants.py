"""What must hold after a chaos run, each with its figures. The references are independent of
the pipeline: bars are resampled from the source's raw frames with pandas, indicators are
TA-Lib's over those bars (our batch engine only for the specs TA-Lib lacks), and the stores
are compared record by record with the topics."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
import numpy as np
import orjson
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from marketpulse.analytics.indicators import IndicatorSet
from marketpulse.analytics.indicators.base import Candle
from marketpulse.schemas.events import DeadLetter, Frame, Trade
from marketpulse.settings import Settings
from marketpulse.storage import measurements
from marketpulse.storage.influx import RETENTION, InfluxClient
from marketpulse.storage.postgres import create_pool
from marketpulse.streams.topics import DEADLETTER, INDICATORS, RAW, SIGNALS, bars_topic_name
from tests.e2e.pipeline import expected_bars
from tests.kafka_helpers import read_to_end
from tests.oracles import TALIB, Series

Record: TypeAlias = ConsumerRecord[bytes, bytes]
BAR_FIELDS = ("open", "high", "low", "close", "volume", "trades", "vwap")


@dataclass(frozen=True)
class Check:
    """One invariant: whether it held, and the figures that show it."""

    name: str
    ok: bool
    figures: str


@dataclass
class Outputs:
    """The run's topics, each key once (latest revision for bars), and what conflicted."""

    bars: dict[tuple[str, str, int], dict[str, Any]]
    snapshots: dict[tuple[str, str, int], dict[str, Any]]
    signals: dict[str, dict[str, Any]]
    records: Counter[str]  # records read per kind
    redelivered: Counter[str]  # repeated keys with identical values
    conflicts: list[str]  # repeated keys with different values


async def read_outputs(settings: Settings) -> tuple[dict[str, list[Record]], Outputs]:
    """Read every topic of the run; fold the outputs by key."""
    names = {g: settings.topic(bars_topic_name(g)) for g in settings.granularities}
    raw, dead, indicators, signals = (
        settings.topic(spec.name) for spec in (RAW, DEADLETTER, INDICATORS, SIGNALS)
    )
    topics = await read_to_end(settings, [raw, dead, indicators, signals, *names.values()])
    outputs = Outputs({}, {}, {}, Counter(), Counter(), [])
    seen: dict[str, dict[bytes, bytes]] = defaultdict(dict)

    def fold(kind: str, records: Iterable[Record]) -> Iterable[dict[str, Any]]:
        for record in records:
            outputs.records[kind] += 1
            key = (record.key or b"") + b"|" + _identity(kind, record.value)
            before = seen[kind].get(key)
            if before is None:
                seen[kind][key] = record.value
                yield orjson.loads(record.value)
            elif before == record.value:
                outputs.redelivered[kind] += 1
            else:
                outputs.conflicts.append(f"{kind} {key.decode()}")

    for topic in names.values():
        for bar in fold("bar", topics[topic]):
            key = (bar["symbol"], bar["granularity"], bar["start"])
            if key not in outputs.bars or outputs.bars[key]["revision"] < bar["revision"]:
                outputs.bars[key] = bar
    for snap in fold("indicator snapshot", topics[indicators]):
        outputs.snapshots[(snap["symbol"], snap["granularity"], snap["bar_start"])] = snap
    for signal in fold("signal", topics[signals]):
        name = "|".join(str(signal[f]) for f in ("symbol", "granularity", "ts", "name"))
        outputs.signals[name] = signal
    return {"raw": topics[raw], "deadletter": topics[dead]}, outputs


def _identity(kind: str, value: bytes) -> bytes:
    """What makes a record a new one rather than a redelivery, beyond its key (the symbol):
    granularity and bar start, and a bar's revision or a signal's name."""
    body = orjson.loads(value)
    if kind == "bar":
        return f"{body['granularity']}|{body['start']}|{body['revision']}".encode()
    if kind == "signal":
        return f"{body['granularity']}|{body['ts']}|{body['name']}".encode()
    return f"{body['granularity']}|{body['bar_start']}".encode()


@dataclass
class Reference:
    """The source's accepted trades per symbol, and each partition's final stream time."""

    trades: dict[str, list[Trade]]
    horizon: dict[str, int]  # symbol -> the stream time of its partition at the end
    events: int
    dead_letters: Counter[str]


def reference(inputs: dict[str, list[Record]]) -> Reference:
    """Replay the source's frames as the gate sees them, minus what it dead-lettered. A dead
    letter names its frame (partition and offset) and carries the event; within a frame, the
    gate keeps the first of identical events and refuses the repeats."""
    dead_letters: Counter[str] = Counter()
    refused: Counter[tuple[int, int, str, int, str]] = Counter()
    for record in inputs["deadletter"]:
        letter = DeadLetter.model_validate_json(record.value)
        dead_letters[letter.reason] += 1
        try:
            event = orjson.loads(letter.payload)
            refused[
                letter.partition, letter.offset, event["symbol"], event["ts"], event["kind"]
            ] += 1
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # a whole frame that never decoded: none of its events count anyway
    trades: dict[str, list[Trade]] = defaultdict(list)
    partition_of: dict[str, int] = {}
    partition_time: dict[int, int] = defaultdict(int)
    events = 0
    for record in inputs["raw"]:
        try:
            frame = Frame.model_validate_json(record.value)
        except ValidationError:
            continue
        ids = [(record.partition, record.offset, e.symbol, e.ts, e.kind) for e in frame.events]
        total, seen = Counter(ids), Counter[tuple[int, int, str, int, str]]()
        for event, identity in zip(frame.events, ids, strict=True):
            seen[identity] += 1
            if seen[identity] > total[identity] - refused[identity]:
                continue
            events += 1
            partition_of[event.symbol] = record.partition
            partition_time[record.partition] = max(partition_time[record.partition], event.ts)
            if isinstance(event, Trade):
                trades[event.symbol].append(event)
    horizon = {symbol: partition_time[p] for symbol, p in partition_of.items()}
    return Reference(dict(trades), horizon, events, dead_letters)


def check_bars(settings: Settings, ref: Reference, out: Outputs) -> Check:
    """Every closed bar is there, once, and equals the resample; no bar is there that should
    not be."""
    missing = extra = wrong = expected_total = 0
    examples: list[str] = []
    for granularity, length in settings.granularity_lengths().items():
        for symbol, trades in ref.trades.items():
            expected = expected_bars(trades, length, ref.horizon[symbol])
            expected_total += len(expected)
            ours = {k[2]: b for k, b in out.bars.items() if k[:2] == (symbol, granularity)}
            extra += len(set(ours) - set(expected.index))
            for start, row in zip(
                expected.index.tolist(), expected.to_dict("records"), strict=True
            ):
                bar = ours.get(start)
                if bar is None:
                    missing += 1
                    examples.append(f"missing {symbol} {granularity} {start}")
                elif not _same_bar(bar, row):
                    wrong += 1
                    examples.append(f"{symbol} {granularity} {start}: {bar} != {dict(row)}")
    ok = expected_total > 0 and missing == extra == wrong == 0
    figures = (
        f"{len(out.bars)} bars from {ref.events} accepted events "
        f"({sum(map(len, ref.trades.values()))} trades, dead letters {dict(ref.dead_letters)}); "
        f"expected {expected_total}: {missing} missing, {extra} extra, {wrong} wrong"
    )
    return Check("bars equal a resample of the source events", ok, _with(figures, examples))


def _same_bar(bar: dict[str, Any], row: Mapping[Any, Any]) -> bool:
    exact = all(bar[f] == row[f] for f in ("open", "high", "low", "close", "trades"))
    close = all(np.isclose(bar[f], row[f], rtol=1e-12) for f in ("volume", "vwap"))
    return exact and close


def check_indicators(settings: Settings, ref: Reference, out: Outputs) -> Check:
    """Every snapshot's values equal TA-Lib's over the reference bars (the batch engine for
    the specs TA-Lib lacks), and every closed bar has its snapshot."""
    checked = by_talib = missing = wrong = 0
    examples: list[str] = []
    for granularity, length in settings.granularity_lengths().items():
        for symbol, trades in ref.trades.items():
            bars = expected_bars(trades, length, ref.horizon[symbol])
            if bars.empty:
                continue
            reference_values = _reference_values(settings.indicators, bars)
            for i, start in enumerate(bars.index):
                snap = out.snapshots.get((symbol, granularity, int(start)))
                if snap is None:
                    missing += 1
                    examples.append(f"no snapshot for {symbol} {granularity} {start}")
                    continue
                expected = {n: v[i] for n, (v, _) in reference_values.items() if not np.isnan(v[i])}
                checked += len(expected)
                by_talib += sum(1 for n in expected if reference_values[n][1])
                if set(snap["values"]) != set(expected):
                    wrong += 1
                    diff = set(snap["values"]) ^ set(expected)
                    examples.append(f"{symbol} {granularity} {start}: outputs differ on {diff}")
                    continue
                for name, value in expected.items():
                    got = snap["values"][name]
                    scale = max(abs(value), np.nanmax(np.abs(reference_values[name][0])) * 1e-3)
                    if abs(got - value) > 1e-9 * max(scale, 1e-12):
                        wrong += 1
                        examples.append(f"{symbol} {granularity} {start} {name}: {got} != {value}")
    ok = checked > 0 and missing == wrong == 0
    figures = (
        f"{len(out.snapshots)} snapshots, {checked} values ({by_talib} against TA-Lib): "
        f"{missing} missing, {wrong} wrong"
    )
    return Check("indicators equal a recomputation", ok, _with(figures, examples))


def _reference_values(specs: list[str], bars: Any) -> dict[str, tuple[np.ndarray, bool]]:
    """Output name -> (value per bar, NaN where undefined; whether TA-Lib computed it)."""
    candles = [
        Candle(int(start), r["open"], r["high"], r["low"], r["close"], r["volume"])
        for start, r in bars.iterrows()
    ]
    engine = IndicatorSet([s for s in specs if s not in TALIB])
    rows = [engine.update(c) for c in candles]
    values: dict[str, tuple[np.ndarray, bool]] = {
        name: (np.array([row.get(name, np.nan) for row in rows]), False)
        for name in {n for indicator in engine.indicators for n in indicator.outputs}
    }
    columns = ("open", "high", "low", "close", "volume")
    series = Series(*(bars[c].to_numpy(dtype=float) for c in columns))
    for spec in specs:
        if spec in TALIB:
            values.update({n: (v, True) for n, v in TALIB[spec](series).items()})
    return values


def check_unique(out: Outputs) -> Check:
    """A redelivery repeats a record exactly; a key never carries two different values."""
    figures = (
        f"{sum(out.records.values())} records ({dict(out.records)}); "
        f"{sum(out.redelivered.values())} redelivered identically ({dict(out.redelivered)}); "
        f"{len(out.conflicts)} keys with different values"
    )
    figures = _with(figures, out.conflicts)
    return Check("no key twice with different values", not out.conflicts, figures)


async def check_stores(settings: Settings, out: Outputs) -> Check:
    """InfluxDB holds every bar and indicator value of the topics, equal; InfluxDB and
    PostgreSQL hold every signal."""
    examples: list[str] = []
    async with InfluxClient(settings) as influx:
        stored_bars = await _every_point(influx, "raw", measurements.BARS, "*")
        stored_values = await _every_point(influx, "indicators", measurements.INDICATORS, "value")
        stored_signals = await _every_point(influx, "indicators", measurements.SIGNALS, "strength")
    bars = {(r["symbol"], r["granularity"], r["time"]): r for r in stored_bars}
    bars_missing = bars_wrong = 0
    for key, bar in out.bars.items():
        row = bars.get(key)
        if row is None:
            bars_missing += 1
            examples.append(f"bar {key} not in InfluxDB")
        elif any(row[f] != bar[f] for f in BAR_FIELDS if bar[f] is not None):
            bars_wrong += 1
            examples.append(f"bar {key}: InfluxDB {row} != topic {bar}")
    values = {(r["symbol"], r["granularity"], r["time"], r["indicator"]): r["value"]
              for r in stored_values}  # fmt: skip
    values_missing = values_wrong = expected_values = 0
    for (symbol, granularity, start), snap in out.snapshots.items():
        for name, value in snap["values"].items():
            expected_values += 1
            stored = values.get((symbol, granularity, start, name))
            if stored is None:
                values_missing += 1
                examples.append(f"{name} of {symbol} {granularity} {start} not in InfluxDB")
            elif stored != value:
                values_wrong += 1
    pool: asyncpg.Pool = await create_pool(settings, max_size=1)
    try:
        in_postgres = int(await pool.fetchval("SELECT count(*) FROM signals"))
    finally:
        await pool.close()
    signals = len(out.signals)
    ok = (
        bars_missing == bars_wrong == values_missing == values_wrong == 0
        and len(stored_signals) == signals == in_postgres
    )
    figures = (
        f"InfluxDB: {len(out.bars)} bars ({bars_missing} missing, {bars_wrong} different), "
        f"{expected_values} indicator values ({values_missing} missing, {values_wrong} "
        f"different), {len(stored_signals)} of {signals} signals; "
        f"PostgreSQL: {in_postgres} of {signals} signals"
    )
    return Check("no points missing in the stores", ok, _with(figures, examples))


async def _every_point(
    influx: InfluxClient, policy: str, measurement: str, fields: str
) -> list[dict[str, Any]]:
    """Every point of a measurement, tags included."""
    source = f'"{RETENTION[policy].name}"."{measurement}"'
    return await influx.rows(f"SELECT {fields} FROM {source} GROUP BY *")  # noqa: S608 - constants


def _with(figures: str, examples: list[str]) -> str:
    return figures + "".join(f"\n      e.g. {e}" for e in examples[:5])
