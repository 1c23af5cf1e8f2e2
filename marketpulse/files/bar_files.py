"""``marketpulse bars``: bars from a file of trades or of smaller bars, with the stream's code.

Trades (``timestamp,price,size``) go through the bar builder as the stream's do; smaller bars
(``timestamp,open,high,low,close,volume``, each starting at its timestamp and as long as the
shortest step between two of them) roll up as ready-made bars do. A trade or bar outside every
session of the chosen calendar makes no bar and is reported. With a condition table, trades
(with a ``conditions`` column) set only the parts of a bar their conditions allow, as a live
source's do. A file's cancels and corrections apply to the trades they name before any bar is
made: the bars are those of the trades as they stand, which the stream gives too when each
came within its cancel window and its bar's lateness.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.conditions import ConditionTable, mask_of
from marketpulse.analytics.sessions import BarCuts, SessionTable
from marketpulse.conditions import mark
from marketpulse.files.ohlcv import InputError, ohlcv_series
from marketpulse.files.ticks import TRADE_COLUMNS, is_tick_file, read_ticks
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Event, Trade, TradeCancel, TradeCorrection

HEADER = ["timestamp", "symbol", "granularity", "open", "high", "low", "close", "volume"]
_FAR = 1 << 62  # a stream time past every bar: close them all


def iso_local(ts_ns: int, zone: ZoneInfo) -> str:
    """A bar start in ISO 8601 with the zone's UTC offset (``2025-03-07T09:30:00-05:00``)."""
    return dt.datetime.fromtimestamp(ts_ns / 1e9, zone).isoformat()


def _years(ts: list[int]) -> tuple[int, int]:
    first = dt.datetime.fromtimestamp(min(ts) / 1e9, dt.UTC).year
    last = dt.datetime.fromtimestamp(max(ts) / 1e9, dt.UTC).year
    return first - 1, last + 1


def bar_rows(
    path: Path,
    frame: pd.DataFrame,
    granularity: str,
    symbol: str | None,
    table_of: Callable[[int, int], SessionTable | None],
    refused: list[str],
    conditions: ConditionTable | None = None,
) -> Iterator[list[str]]:
    """The CSV rows of the bars a file's trades or smaller bars make, symbol by symbol, each
    in time order; rows that make no bar are described in ``refused``."""
    columns = [str(c).strip().lower() for c in frame.columns]
    if is_tick_file(columns):
        if not set(TRADE_COLUMNS) <= set(columns):
            raise InputError(f"{path}: quotes make no bars; give trades (timestamp,price,size)")
        events = mark(read_ticks(path, frame, symbol, "file"), conditions)
        trades = _standing(path, events, refused)
        if not trades:
            return
        table = table_of(*_years([t.ts for _, t in trades]))
        yield from _from_trades(path, trades, granularity, table, refused)
        return
    series_list = ohlcv_series(path, frame, symbol, refused)
    stamps = [int(t) for s in series_list for t in s.ts]
    if not stamps:
        return
    table = table_of(*_years(stamps))
    steps = [np.diff(s.ts) for s in series_list if len(s) > 1]
    length = int(min(int(d.min()) for d in steps)) if steps else 0
    if length <= 0:
        raise InputError(f"{path}: too few rows to tell how long each bar is")
    cuts = BarCuts([granularity], [("*", table)])
    for series in series_list:
        builder = BarBuilder(series.symbol, cuts.of(series.symbol))
        for i in range(len(series)):
            start = int(series.ts[i])
            if not builder.in_session(start):
                refused.append(f"{path}: {series.symbol} bar at {start} is outside every session")
                continue
            builder.add_bar(Bar(
                symbol=series.symbol, granularity="input", start=start, end=start + length,
                open=series.open[i], high=series.high[i], low=series.low[i],
                close=series.close[i], volume=series.volume[i],
            ))  # fmt: skip
        yield from _rows(builder.close(_FAR, 0), table)


def _standing(path: Path, events: list[Event], refused: list[str]) -> list[tuple[int, Trade]]:
    """The file's trades as its cancels and corrections leave them, each with its row (a
    corrected trade keeps the row and the place of the trade it corrects); a cancel or
    correction that names no trade of the file is reported."""
    trades: dict[tuple[str, int, str | int], tuple[int, Trade]] = {}
    for row, event in enumerate(events):
        if isinstance(event, Trade):  # one without an id, by its row: nothing can name it
            trades[(event.symbol, event.ts, row if event.id is None else event.id)] = (row, event)
            continue
        if not isinstance(event, TradeCancel | TradeCorrection):
            continue
        key = (event.symbol, event.trade_ts, event.trade_id)
        if key not in trades:
            refused.append(f"{path}: row {row + 1} (line {row + 2}): {event.kind} of trade "
                           f"{event.trade_id!r} at {event.trade_ts}: no such trade")  # fmt: skip
        elif isinstance(event, TradeCancel):
            del trades[key]
        else:
            fields = event.model_dump(include={"symbol", "price", "size", "conditions",
                                               "source", "updates"})  # fmt: skip
            new_id = event.id or event.trade_id
            trades[key] = (trades[key][0], Trade(**fields, ts=event.trade_ts, id=new_id))
    return list(trades.values())


def _from_trades(
    path: Path,
    trades: list[tuple[int, Trade]],
    granularity: str,
    table: SessionTable | None,
    refused: list[str],
) -> Iterator[list[str]]:
    cuts = BarCuts([granularity], [("*", table)])
    builders: dict[str, BarBuilder] = {}
    for index, trade in sorted(trades, key=lambda pair: pair[1].ts):
        builder = builders.get(trade.symbol)
        if builder is None:
            builder = builders[trade.symbol] = BarBuilder(trade.symbol, cuts.of(trade.symbol))
        if trade.price is None or not builder.in_session(trade.ts):
            why = "no price" if trade.price is None else "outside every session"
            refused.append(f"{path}: row {index + 1} (line {index + 2}): {why}")
            continue
        builder.add_trade(trade.ts, trade.price, trade.size, mask_of(trade.updates))
    for builder in builders.values():
        yield from _rows(builder.close(_FAR, 0), table)


def _rows(bars: list[Bar], table: SessionTable | None) -> Iterator[list[str]]:
    zone = ZoneInfo(table.zone if table is not None else "UTC")
    for bar in bars:
        prices = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        yield [iso_local(bar.start, zone), bar.symbol, bar.granularity,
               *(repr(float(v)) for v in prices)]  # fmt: skip
