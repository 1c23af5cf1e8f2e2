"""Tick files: trades (``timestamp,price,size``) or quotes (``timestamp,bid,ask,bid_size,
ask_size``), optionally with ``symbol`` and (trades) ``conditions`` and ``id``. Timestamps as in
OHLCV files. A trade file may also hold the feed's cancels and corrections of earlier trades: a
``kind`` column (``trade``, the default, ``cancel`` or ``correction``), with ``trade_id`` and
``trade_ts`` naming the trade; a row's ``timestamp`` is then when it was announced, and a
correction's price, size, conditions and id are the trade's corrected ones. Values are not
judged here: the quality gate does that, with reasons, in the stream."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from marketpulse.files.ohlcv import InputError, parse_timestamps
from marketpulse.schemas.events import Event, Quote, Trade, TradeCancel, TradeCorrection

TRADE_COLUMNS = ("timestamp", "price", "size")
KINDS = ("trade", "cancel", "correction")
QUOTE_COLUMNS = ("timestamp", "bid", "ask", "bid_size", "ask_size")


def is_tick_file(columns: list[str]) -> bool:
    """Whether a table's columns describe ticks rather than bars."""
    return set(TRADE_COLUMNS) <= set(columns) or set(QUOTE_COLUMNS) <= set(columns)


def _numbers(path: Path, frame: pd.DataFrame, name: str) -> list[float]:
    values = pd.to_numeric(frame[name], errors="coerce")
    text = frame[name].astype(str).str.strip().str.lower()
    # a missing value (NaN in a Parquet column, blank or "nan" in text) is not a bad one
    missing = frame[name].isna().to_numpy() | text.isin(["", "nan"]).to_numpy()
    bad = values.isna().to_numpy() & ~missing
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{path}: row {index + 1}, column {name}: {frame[name].iloc[index]!r} is not a number"
        )
    return [float(v) for v in values]  # NaN stays NaN: the gate refuses it as bad_price


def read_ticks(path: Path, frame: pd.DataFrame, symbol: str | None, source: str) -> list[Event]:
    """Turn a tick table into events, in file order."""
    frame = frame.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "symbol" in frame.columns and symbol is not None:
        frame = frame[frame["symbol"].astype(str) == symbol].reset_index(drop=True)
    if frame.empty:
        raise InputError(f"{path}: no rows" + (f" for symbol {symbol!r}" if symbol else ""))
    symbols = (
        frame["symbol"].astype(str).tolist()
        if "symbol" in frame.columns
        else [symbol or path.stem.upper()] * len(frame)
    )
    ts = parse_timestamps(path, frame["timestamp"]).tolist()
    if set(TRADE_COLUMNS) <= set(frame.columns):
        return _trades(path, frame, symbols, ts, source)
    columns = [_numbers(path, frame, name) for name in QUOTE_COLUMNS[1:]]
    return [
        Quote(symbol=s, ts=t, bid=b, ask=a, bid_size=bs, ask_size=az, source=source)
        for s, t, b, a, bs, az in zip(symbols, ts, *columns, strict=True)
    ]


def _texts(frame: pd.DataFrame, name: str) -> list[str | None]:
    """A column's values as text, None where blank (or where the column is not). Numeric ids
    are read as numbers, and a column with a blank as floats: a whole float is written as the
    integer it was (``1207``, not ``1207.0``), so that a trade's id and a cancel's name for it
    read alike."""
    if name not in frame.columns:
        return [None] * len(frame)
    out: list[str | None] = []
    for value in frame[name]:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = "" if pd.isna(value) else str(value).strip()
        out.append(text or None)
    return out


def _trades(
    path: Path, frame: pd.DataFrame, symbols: list[str], ts: list[int], source: str
) -> list[Event]:
    prices, sizes = _numbers(path, frame, "price"), _numbers(path, frame, "size")
    conditions = (
        [[c for c in str(v).split(";") if c] for v in frame["conditions"]]
        if "conditions" in frame.columns
        else [[] for _ in ts]
    )
    ids = _texts(frame, "id")
    kinds = [kind or "trade" for kind in _texts(frame, "kind")]
    for row, kind in enumerate(kinds):
        if kind not in KINDS:
            raise InputError(f"{path}: row {row + 1}, column kind: {kind!r} is not one of "
                             f"{', '.join(KINDS)}")  # fmt: skip
    amends = [kind != "trade" for kind in kinds]
    named, named_ts = _texts(frame, "trade_id"), list(ts)
    if any(amends):
        for row, amend in enumerate(amends):
            if amend and named[row] is None:
                raise InputError(f"{path}: row {row + 1}: a {kinds[row]} needs trade_id and "
                                 "trade_ts (the trade it names)")  # fmt: skip
        if "trade_ts" not in frame.columns:
            raise InputError(f"{path}: a cancel or correction needs a trade_ts column")
        # a trade's own row takes its timestamp, so that each row keeps its number
        column = frame["trade_ts"].where(pd.Series(amends, index=frame.index), frame["timestamp"])
        named_ts = parse_timestamps(path, column, "trade_ts").tolist()
    events: list[Event] = []
    for row, kind in enumerate(kinds):
        symbol, t, price, size = symbols[row], ts[row], prices[row], sizes[row]
        trade_id, trade_ts = named[row], named_ts[row]
        if kind == "cancel" and trade_id is not None:
            events.append(TradeCancel(symbol=symbol, ts=t, trade_id=trade_id, trade_ts=trade_ts,
                                      source=source))  # fmt: skip
        elif kind == "correction" and trade_id is not None:
            events.append(TradeCorrection(
                symbol=symbol, ts=t, trade_id=trade_id, trade_ts=trade_ts, price=price,
                size=size, conditions=list(conditions[row]), source=source, id=ids[row],
            ))  # fmt: skip
        else:
            events.append(Trade(symbol=symbol, ts=t, price=price, size=size,
                                conditions=list(conditions[row]), source=source,
                                id=ids[row]))  # fmt: skip
    return events
