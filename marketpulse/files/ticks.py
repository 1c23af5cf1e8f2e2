"""Tick files: trades (``timestamp,price,size``) or quotes (``timestamp,bid,ask,bid_size,
ask_size``), optionally with ``symbol`` and (trades) ``conditions``. Timestamps as in OHLCV
files. Values are not judged here: the quality gate does that, with reasons, in the stream."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from marketpulse.files.ohlcv import InputError, parse_timestamps
from marketpulse.schemas.events import Event, Quote, Trade

TRADE_COLUMNS = ("timestamp", "price", "size")
QUOTE_COLUMNS = ("timestamp", "bid", "ask", "bid_size", "ask_size")


def is_tick_file(columns: list[str]) -> bool:
    """Whether a table's columns describe ticks rather than bars."""
    return set(TRADE_COLUMNS) <= set(columns) or set(QUOTE_COLUMNS) <= set(columns)


def _numbers(path: Path, frame: pd.DataFrame, name: str) -> list[float]:
    values = pd.to_numeric(frame[name], errors="coerce")
    text = frame[name].astype(str).str.strip().str.lower()
    bad = values.isna().to_numpy() & ~text.isin(["", "nan"]).to_numpy()
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
        prices, sizes = _numbers(path, frame, "price"), _numbers(path, frame, "size")
        conditions = (
            [[c for c in str(v).split(";") if c] for v in frame["conditions"]]
            if "conditions" in frame.columns
            else [[] for _ in ts]
        )
        return [
            Trade(symbol=s, ts=t, price=p, size=z, conditions=list(c), source=source)
            for s, t, p, z, c in zip(symbols, ts, prices, sizes, conditions, strict=True)
        ]
    columns = [_numbers(path, frame, name) for name in QUOTE_COLUMNS[1:]]
    return [
        Quote(symbol=s, ts=t, bid=b, ask=a, bid_size=bs, ask_size=az, source=source)
        for s, t, b, a, bs, az in zip(symbols, ts, *columns, strict=True)
    ]
