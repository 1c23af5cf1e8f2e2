"""OHLCV files (CSV or Parquet): ``timestamp,open,high,low,close,volume`` and optionally
``symbol``. Timestamps may be ISO-8601 with or without a UTC offset (naive means UTC) or epoch
seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from marketpulse.analytics.quality import OHLC_TOLERANCE
from marketpulse.errors import MarketPulseError

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
PRICES = ("open", "high", "low", "close", "volume")


class InputError(MarketPulseError):
    """Bad input in a file: names the file, the row and the column."""


@dataclass(frozen=True)
class OhlcvSeries:
    """One symbol's bars, in file order, as columns."""

    symbol: str
    ts: NDArray[np.int64]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.ts)


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file with every column as text or its stored type."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt", ""):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a readable CSV file ({exc})") from exc
    raise InputError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")


def _where(path: Path, index: int) -> str:
    line = f" (line {index + 2})" if path.suffix.lower() not in (".parquet", ".pq") else ""
    return f"{path}: row {index + 1}{line}"


def parse_timestamps(path: Path, column: pd.Series, name: str = "timestamp") -> NDArray[np.int64]:
    """Timestamps as integer ns UTC; raise InputError naming the first bad row (of the column
    ``name``)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.to_datetime(column, utc=True)
    else:
        text = column.astype(str).str.strip()
        numeric = pd.to_numeric(text, errors="coerce")
        if numeric.notna().all():
            return _epoch_to_ns(path, numeric)
        parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{_where(path, index)}, column {name}: cannot parse {column.iloc[index]!r} "
            "as ISO-8601 or epoch time"
        )
    as_ns = parsed.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]")
    return np.asarray(as_ns.astype(np.int64), dtype=np.int64)


def _epoch_to_ns(path: Path, numeric: pd.Series) -> NDArray[np.int64]:
    values = numeric.to_numpy(dtype=np.float64)
    largest = np.nanmax(np.abs(values)) if len(values) else 0.0
    if largest < 1e11:
        scale = 1_000_000_000  # seconds
    elif largest < 1e14:
        scale = 1_000_000  # milliseconds
    elif largest < 1e17:
        scale = 1_000  # microseconds
    else:
        scale = 1
    if (values < 0).any():
        index = int(np.flatnonzero(values < 0)[0])
        raise InputError(f"{_where(path, index)}, column timestamp: negative epoch time")
    if scale == 1:
        return np.asarray(numeric.astype(np.int64).to_numpy(), dtype=np.int64)
    return np.asarray(np.round(values * scale), dtype=np.int64)


def _bad_numbers(frame: pd.DataFrame, name: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """A price or volume column as floats, and which rows are not positive (non-negative, for
    volume) finite numbers."""
    values = np.asarray(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0 if name == "volume" else values <= 0)
    return values, bad


def _number_problem(frame: pd.DataFrame, name: str, index: int) -> str:
    kind = "non-negative" if name == "volume" else "positive"
    return f"column {name}: {frame[name].iloc[index]!r} is not a {kind} finite number"


def read_ohlcv(
    path: Path, symbol: str | None = None, refused: list[str] | None = None
) -> list[OhlcvSeries]:
    """Read and validate an OHLCV file; one series per symbol, each in file order (see
    :func:`ohlcv_series` for ``refused``)."""
    return ohlcv_series(path, read_table(path), symbol, refused)


def ohlcv_series(
    path: Path, frame: pd.DataFrame, symbol: str | None = None, refused: list[str] | None = None
) -> list[OhlcvSeries]:
    """Validate an OHLCV table read from ``path``; one series per symbol, each in file order.

    A bad row (a price that is not a positive number, a negative volume, a range that excludes
    the open or close, a time not after the previous row of its symbol) raises InputError naming
    it; or, when ``refused`` is a list, is left out and described there, row by row. A range
    that misses the open or close by float noise only (:data:`OHLC_TOLERANCE`) is not bad: it
    is widened to hold them.
    """
    frame = frame.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; need {', '.join(COLUMNS)}"
        )
    if "symbol" in frame.columns:
        if symbol is not None:
            frame = frame[frame["symbol"].astype(str) == symbol].reset_index(drop=True)
            if frame.empty:
                raise InputError(f"{path}: no rows for symbol {symbol!r}")
        symbols = frame["symbol"].astype(str).to_numpy()
    else:
        name = symbol or path.stem.upper()
        symbols = np.full(len(frame), name, dtype=object)
    if frame.empty:
        raise InputError(f"{path}: no rows")
    ts = parse_timestamps(path, frame["timestamp"])
    problems: dict[int, str] = {}  # row -> its first problem
    columns = {}
    for name in PRICES:
        columns[name], bad = _bad_numbers(frame, name)
        for index in np.flatnonzero(bad).tolist():
            problems.setdefault(index, _number_problem(frame, name, index))
    body_low = np.minimum(columns["open"], columns["close"])
    body_high = np.maximum(columns["open"], columns["close"])
    with np.errstate(invalid="ignore"):
        outside = (columns["low"] > body_low * (1 + OHLC_TOLERANCE)) | (
            columns["high"] < body_high * (1 - OHLC_TOLERANCE)
        )
    for index in np.flatnonzero(outside).tolist():
        problems.setdefault(index, "column high/low: the bar's range excludes its open or close")
    columns["low"] = np.minimum(columns["low"], body_low)  # float noise only, by now
    columns["high"] = np.maximum(columns["high"], body_high)
    kept = np.ones(len(frame), dtype=bool)
    kept[list(problems)] = False
    for name in dict.fromkeys(symbols):
        rows = np.flatnonzero((symbols == name) & kept)
        series_ts = ts[rows]
        if len(rows) > 1:  # a row not after every earlier one of its symbol
            earlier = np.maximum.accumulate(series_ts)[:-1]
            for offset in np.flatnonzero(series_ts[1:] <= earlier).tolist():
                problems[int(rows[offset + 1])] = (
                    f"column timestamp: not after the previous {name} row (rows must be in "
                    "increasing time order per symbol)"
                )
    if problems and refused is None:
        first = min(problems)
        raise InputError(f"{_where(path, first)}, {problems[first]}")
    if refused is not None:
        refused.extend(f"{_where(path, index)}, {problems[index]}" for index in sorted(problems))
    kept[list(problems)] = False
    out = []
    for name in dict.fromkeys(symbols[kept]):
        rows = np.flatnonzero((symbols == name) & kept)
        out.append(
            OhlcvSeries(
                str(name),
                ts[rows],
                *(columns[c][rows] for c in ("open", "high", "low", "close", "volume")),
            )
        )
    return out
