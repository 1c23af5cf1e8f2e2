"""What `marketpulse replay` makes of files: ready-made bars, or frames of ticks."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from marketpulse.files.ohlcv import InputError
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Frame, Quote, Trade
from marketpulse.streams.sources.replay import load

S = 1_000_000_000


def test_ohlcv_rows_become_aligned_bars(tmp_path: Path) -> None:
    source = tmp_path / "bars.csv"
    pd.DataFrame(
        {
            "timestamp": ["2024-01-02", "2024-01-03"], "open": [1, 2], "high": [2, 3],
            "low": [0.5, 1.5], "close": [1.5, 2.5], "volume": [10, 20],
        }
    ).to_csv(source, index=False)  # fmt: skip
    records = load([source], "XYZ", "1d", 100)
    bars = [r[2] for r in records]
    assert all(isinstance(b, Bar) for b in bars)
    first = bars[0]
    assert isinstance(first, Bar)
    assert (first.symbol, first.granularity, first.end - first.start) == ("XYZ", "1d", 86_400 * S)
    assert first.start == pd.Timestamp("2024-01-02", tz="UTC").value
    assert [r[1] for r in records] == ["XYZ", "XYZ"]


def test_trade_ticks_become_frames_per_symbol(tmp_path: Path) -> None:
    source = tmp_path / "trades.csv"
    pd.DataFrame(
        {
            "timestamp": [1_700_000_000 + i for i in range(5)],
            "symbol": ["A", "A", "B", "A", "A"],
            "price": [10, 10.5, 20, "NaN", 11],
            "size": [1, 2, 3, 4, 5],
            "conditions": ["12;T", "", "", "", "37"],
        }
    ).to_csv(source, index=False)
    records = load([source], None, "1m", 2)
    assert [r[1] for r in records] == ["A", "B", "A"]  # runs of one symbol, up to 2 events each
    frames = [r[2] for r in records]
    assert all(isinstance(f, Frame) for f in frames)
    first = frames[0]
    assert isinstance(first, Frame)
    trade = first.events[0]
    assert isinstance(trade, Trade)
    assert (trade.ts, trade.price, trade.conditions) == (1_700_000_000 * S, 10.0, ["12", "T"])
    last = frames[2]
    assert isinstance(last, Frame)
    nan_trade = last.events[0]
    assert isinstance(nan_trade, Trade)
    assert nan_trade.price is not None
    assert math.isnan(nan_trade.price)  # kept: the gate refuses it in the stream, with a reason


def test_quote_ticks(tmp_path: Path) -> None:
    source = tmp_path / "quotes.csv"
    pd.DataFrame(
        {
            "timestamp": ["2024-01-02T14:30:00Z"],
            "bid": [1.0],
            "ask": [1.1],
            "bid_size": [100],
            "ask_size": [200],
        }
    ).to_csv(source, index=False)
    records = load([source], "Q", "1m", 10)
    frame = records[0][2]
    assert isinstance(frame, Frame)
    assert frame.events == [
        Quote(symbol="Q", ts=pd.Timestamp("2024-01-02T14:30:00Z").value, bid=1.0, ask=1.1,
              bid_size=100, ask_size=200, source="replay")
    ]  # fmt: skip


def test_unreadable_tick_value_names_row_and_column(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    pd.DataFrame({"timestamp": [1, 2], "price": [1, "abc"], "size": [1, 1]}).to_csv(
        source, index=False
    )
    with pytest.raises(InputError, match="row 2, column price"):
        load([source], "X", "1m", 10)


def _daily(path: Path, days: list[str]) -> Path:
    n = len(days)
    pd.DataFrame(
        {"timestamp": days, "open": [1.0] * n, "high": [2.0] * n, "low": [0.5] * n,
         "close": [1.5] * n, "volume": [10] * n}
    ).to_csv(path, index=False)  # fmt: skip
    return path


def test_a_directory_of_files_replays_every_symbol_in_event_time(tmp_path: Path) -> None:
    folder = tmp_path / "daily"
    folder.mkdir()
    _daily(folder / "aaa.csv", ["2024-01-02", "2024-01-04"])
    _daily(folder / "bbb.csv", ["2024-01-03", "2024-01-04"])
    (folder / "notes.txt").write_text("not data")
    records = load([folder], None, "1d", 100)
    assert [(pd.Timestamp(ts, tz="UTC").day, symbol) for ts, symbol, _ in records] == [
        (2, "AAA"), (3, "BBB"), (4, "AAA"), (4, "BBB"),
    ]  # fmt: skip


def test_bars_and_ticks_from_several_files_merge(tmp_path: Path) -> None:
    bars = _daily(tmp_path / "zzz.csv", ["2024-01-03"])
    ticks = tmp_path / "ticks.csv"
    pd.DataFrame(
        {"timestamp": ["2024-01-02T15:00:00Z", "2024-01-04T15:00:00Z"], "symbol": ["T", "T"],
         "price": [1, 2], "size": [1, 1]}
    ).to_csv(ticks, index=False)  # fmt: skip
    records = load([bars, ticks], None, "1d", 1)
    assert [type(r[2]).__name__ for r in records] == ["Frame", "Bar", "Frame"]


def test_an_empty_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.csv"):
        load([tmp_path], None, "1d", 10)
