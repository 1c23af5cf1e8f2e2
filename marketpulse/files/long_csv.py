"""The batch commands' output: long CSV, one row per bar and output, times in ISO-8601 UTC."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from tqdm import tqdm

from marketpulse.analytics.indicators import Candle, IndicatorSet
from marketpulse.analytics.patterns.engine import CandlestickSet
from marketpulse.files.ohlcv import OhlcvSeries

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def iso_utc(ts_ns: int) -> str:
    """``2024-01-02T14:30:00Z``, with fractional seconds only when there are some."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    stamp = (_EPOCH + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}".rstrip("0") + "Z" if nanos else f"{stamp}Z"


def candles(series: OhlcvSeries) -> Iterator[Candle]:
    """The series as candles, in order."""
    for i in range(len(series)):
        yield Candle(
            int(series.ts[i]),
            float(series.open[i]),
            float(series.high[i]),
            float(series.low[i]),
            float(series.close[i]),
            float(series.volume[i]),
        )


def indicator_rows(series: OhlcvSeries, specs: Iterable[str]) -> Iterator[list[str]]:
    """``[timestamp, symbol, indicator, value]`` for every defined output of every bar."""
    indicators = IndicatorSet(specs)
    for candle in candles(series):
        stamp = iso_utc(candle.ts)
        for name, value in indicators.update(candle).items():
            yield [stamp, series.symbol, name, repr(value)]


def pattern_rows(series: OhlcvSeries, names: Iterable[str] | None) -> Iterator[list[str]]:
    """``[timestamp, symbol, pattern, value]`` for every pattern on every bar, zeros included."""
    patterns = CandlestickSet(names)
    for candle in candles(series):
        stamp = iso_utc(candle.ts)
        values = patterns.update(candle.open, candle.high, candle.low, candle.close)
        for name, value in zip(patterns.names, values, strict=True):
            yield [stamp, series.symbol, name, str(value)]


def progress(items: Iterable[list[str]], total: int, label: str) -> Iterable[list[str]]:
    """Show a progress bar on stderr for large inputs (when stderr is a terminal)."""
    if total < 10_000 or not sys.stderr.isatty():
        return items
    return tqdm(items, total=total, desc=label, unit="rows", file=sys.stderr)


def write_long_csv(path: Path | None, header: list[str], rows: Iterable[list[str]]) -> int:
    """Write rows under ``header`` to ``path`` (or stdout); return how many were written."""
    out: IO[str]
    with path.open("w", newline="") if path else _stdout() as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


class _stdout:
    """stdout as a context manager that is not closed on exit."""

    def __enter__(self) -> IO[str]:
        return sys.stdout

    def __exit__(self, *_exc: object) -> None:
        sys.stdout.flush()
