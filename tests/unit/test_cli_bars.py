"""`marketpulse bars`: a file of trades or of smaller bars in, the stream's bars out, on UTC
boundaries or an exchange calendar's sessions, checked against pandas."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from marketpulse.cli import main

NEW_YORK = ZoneInfo("America/New_York")


def _trades(start: dt.datetime, minutes: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.date_range(start, periods=minutes * 2, freq="30s", tz="UTC")
    prices = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.001, len(times)))), 4)
    return pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "price": prices,
                         "size": rng.integers(1, 50, len(times)) * 100})  # fmt: skip


def _run(tmp_path: Path, frame: pd.DataFrame, *args: str, expect: int = 0) -> pd.DataFrame:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False)
    assert main(["bars", "--input", str(source), "--output", str(out), *args]) == expect
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    return pd.DataFrame(rows).astype(
        {"open": float, "high": float, "low": float, "close": float, "volume": float}
    )


def _ohlcv(frame: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    grouped = frame.groupby(key, sort=True)
    price = "price" if "price" in frame else None
    return pd.DataFrame({
        "open": grouped[price or "open"].first(), "high": grouped[price or "high"].max(),
        "low": grouped[price or "low"].min(), "close": grouped[price or "close"].last(),
        "volume": grouped["size" if price else "volume"].sum().astype(float),
    })  # fmt: skip


def test_utc_bars_from_trades_equal_a_pandas_resample(tmp_path: Path) -> None:
    trades = _trades(dt.datetime(2025, 3, 8, tzinfo=dt.UTC), 120, 1)  # a Saturday: UTC
    got = _run(tmp_path, trades, "--granularity", "5m", "--symbol", "X:BTCUSD")
    times = pd.to_datetime(trades["timestamp"])
    want = _ohlcv(trades, times.dt.floor("5min"))
    assert list(got["timestamp"]) == [t.isoformat() for t in want.index]  # +00:00
    assert set(got["symbol"]) == {"X:BTCUSD"}
    assert set(got["granularity"]) == {"5m"}
    pd.testing.assert_frame_equal(
        got[["open", "high", "low", "close", "volume"]].reset_index(drop=True),
        want.reset_index(drop=True),
    )


def test_session_hours_from_trades_across_a_dst_change(tmp_path: Path) -> None:
    """Friday 7 and Monday 10 March 2025 in New York: EST, then EDT; the hours start at the
    open, 09:30 local, whatever the offset, and the trades outside the session are reported."""
    trades = pd.concat([_trades(dt.datetime(2025, 3, 7, 14, tzinfo=dt.UTC), 480, 2),
                        _trades(dt.datetime(2025, 3, 10, 13, tzinfo=dt.UTC), 480, 3)],
                       ignore_index=True)  # fmt: skip
    got = _run(tmp_path, trades, "--granularity", "1h", "--calendar", "NYSE", expect=1)
    stamps = list(got["timestamp"])
    assert stamps[0] == "2025-03-07T09:30:00-05:00"
    assert stamps[6] == "2025-03-07T15:30:00-05:00"  # the short last hour
    assert stamps[7] == "2025-03-10T09:30:00-04:00"  # the clocks moved: still 09:30
    times = pd.to_datetime(trades["timestamp"]).dt.tz_convert(NEW_YORK)
    session = trades[
        (times.dt.strftime("%H:%M") >= "09:30") & (times.dt.strftime("%H:%M") < "16:00")
    ]
    local = times[session.index]
    opened = local.dt.normalize() + pd.Timedelta(minutes=570)
    key = opened + ((local - opened) // pd.Timedelta(hours=1)) * pd.Timedelta(hours=1)
    want = _ohlcv(session.reset_index(drop=True), key.reset_index(drop=True))
    pd.testing.assert_frame_equal(
        got[["open", "high", "low", "close", "volume"]].reset_index(drop=True),
        want.reset_index(drop=True),
    )


def test_session_days_from_minute_bars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(4)
    days = [dt.datetime(2025, 11, d, 9, 30, tzinfo=NEW_YORK) for d in (26, 28)]  # a half day
    starts = [day + dt.timedelta(minutes=i) for day in days for i in range(390)]
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.001, len(starts)))), 4)
    bars = pd.DataFrame({"timestamp": [s.isoformat() for s in starts], "open": close,
                         "high": close + 0.05, "low": close - 0.05, "close": close,
                         "volume": 100.0})  # fmt: skip
    got = _run(tmp_path, bars, "--granularity", "1d", "--calendar", "NYSE", "--symbol", "IBM",
               expect=1)  # fmt: skip
    assert list(got["timestamp"]) == ["2025-11-26T09:30:00-05:00", "2025-11-28T09:30:00-05:00"]
    half = bars.iloc[390 : 390 + 210]  # 09:30 to the 13:00 early close
    assert got.iloc[1]["close"] == half["close"].iloc[-1]
    assert got.iloc[1]["volume"] == 210 * 100.0
    assert "180 rows skipped" in capsys.readouterr().err  # the minutes after 13:00


def test_a_bad_granularity_or_calendar_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trades = _trades(dt.datetime(2025, 3, 8, tzinfo=dt.UTC), 10, 5)
    source = tmp_path / "in.csv"
    trades.to_csv(source, index=False)
    out = str(tmp_path / "o.csv")
    assert main(["bars", "--input", str(source), "--output", out, "--granularity", "7x"]) == 2
    assert "bad granularity '7x'" in capsys.readouterr().err
    args = ["bars", "--input", str(source), "--output", out, "--granularity", "1h"]
    assert main([*args, "--calendar", "NYZE"]) == 2
    assert "unknown calendar 'NYZE'" in capsys.readouterr().err
    assert main([*args, "--conditions", "nasdaq"]) == 2
    assert "no condition rules for source 'nasdaq'; sources with rules: polygon" in (
        capsys.readouterr().err
    )


def test_trades_with_conditions_set_only_what_their_rules_allow(tmp_path: Path) -> None:
    # a regular trade, an odd lot below it (37), an average-price print far away (2), an
    # out-of-sequence print above (32: a high, not a close); then a minute of odd lots only
    trades = pd.DataFrame({
        "timestamp": ["2025-03-10T14:30:01Z", "2025-03-10T14:30:02Z", "2025-03-10T14:30:03Z",
                      "2025-03-10T14:30:04Z", "2025-03-10T14:31:05Z"],
        "price": [100.0, 99.0, 90.0, 101.0, 100.5],
        "size": [100, 7, 5000, 100, 20],
        "conditions": ["", "37", "2", "32", "37"],
    })  # fmt: skip
    ruled = _run(tmp_path, trades, "--granularity", "1m", "--conditions", "polygon")
    assert ruled[["open", "high", "low", "close", "volume"]].values.tolist() == [
        [100.0, 101.0, 100.0, 100.0, 5207.0]
    ]
    every = _run(tmp_path, trades, "--granularity", "1m")
    assert every[["open", "high", "low", "close"]].values.tolist() == [
        [100.0, 101.0, 90.0, 101.0],
        [100.5, 100.5, 100.5, 100.5],
    ]


def _amended(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two hours of trades with ids, and after them in the file the feed's cancels of every
    seventh trade and corrections of every eleventh (not a cancelled one), each announced a
    minute and a half after its trade; and the trades as they stand after them."""
    trades = _trades(dt.datetime(2025, 3, 8, tzinfo=dt.UTC), 120, 4)
    trades["id"] = [f"t{i}" for i in range(len(trades))]
    trades["kind"] = "trade"
    times = pd.to_datetime(trades["timestamp"])
    announced = (times + pd.Timedelta(seconds=90)).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    cancelled = [i for i in range(len(trades)) if i % 7 == 3]
    corrected = [i for i in range(len(trades)) if i % 11 == 5 and i not in cancelled]
    amendments = pd.DataFrame({
        "timestamp": [announced[i] for i in cancelled + corrected],
        "kind": ["cancel"] * len(cancelled) + ["correction"] * len(corrected),
        "trade_id": [trades["id"][i] for i in cancelled + corrected],
        "trade_ts": [trades["timestamp"][i] for i in cancelled + corrected],
        "price": [np.nan] * len(cancelled) + [trades["price"][i] * 1.01 for i in corrected],
        "size": [np.nan] * len(cancelled) + [trades["size"][i] + 1 for i in corrected],
    })  # fmt: skip
    standing = trades.copy()
    standing.loc[corrected, "price"] *= 1.01
    standing.loc[corrected, "size"] += 1
    standing = standing.drop(index=cancelled)
    whole = pd.concat([trades, amendments], ignore_index=True)
    whole = whole.sort_values("timestamp", kind="stable", ignore_index=True)
    return whole, standing


def test_a_file_s_cancels_and_corrections_leave_the_bars_of_the_trades_that_stand(
    tmp_path: Path,
) -> None:
    whole, standing = _amended(tmp_path)
    got = _run(tmp_path, whole, "--granularity", "5m", "--symbol", "X:BTCUSD")
    want = _ohlcv(standing, pd.to_datetime(standing["timestamp"]).dt.floor("5min"))
    pd.testing.assert_frame_equal(
        got[["open", "high", "low", "close", "volume"]].reset_index(drop=True),
        want.reset_index(drop=True),
    )
    assert not got.equals(_run(tmp_path, whole[whole["kind"] == "trade"], "--granularity", "5m",
                               "--symbol", "X:BTCUSD"))  # fmt: skip


def test_the_stream_makes_the_bars_the_batch_makes_of_an_amended_file(tmp_path: Path) -> None:
    """The same file replayed as frames through the frame step, with a window and a lateness
    that every cancel and correction comes within."""
    from marketpulse.analytics.ingest import SymbolState, step
    from marketpulse.analytics.quality import GateConfig
    from marketpulse.analytics.ticks import ticks_of
    from marketpulse.files.ohlcv import read_table
    from marketpulse.streams.sources.replay import frame_records

    whole, _ = _amended(tmp_path)
    batch = _run(tmp_path, whole, "--granularity", "5m", "--symbol", "X:BTCUSD")
    minute = 60_000_000_000
    config = GateConfig(lateness=(("5m", 10 * minute),), cancel_window_ns=10 * minute)
    state = SymbolState.new("X:BTCUSD", config, {"5m": 5 * minute})
    latest: dict[int, tuple[float, ...]] = {}
    stream_time = 0
    path = tmp_path / "in.csv"  # as the batch read it
    for _, _, frame in frame_records(path, read_table(path), "X:BTCUSD", 5):
        ticks = ticks_of(frame)  # type: ignore[arg-type]
        stream_time, out = step(state, ticks, "X:BTCUSD", stream_time, frame.received_ts, 0)
        assert out.rejected == []
        for bar in out.bars:
            latest[bar.start] = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    for bar in state.bars.close(1 << 62, 0):
        latest[bar.start] = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    columns = batch[["open", "high", "low", "close", "volume"]]
    assert [latest[start] for start in sorted(latest)] == list(columns.itertuples(index=False))


def test_numeric_ids_name_their_trades_whatever_blanks_their_columns_hold(tmp_path: Path) -> None:
    """A Parquet file keeps a feed's numeric ids as numbers: whole ones in the id column (the
    cancel has an id of its own), floats in the trade_id column (blank on the trade rows)."""
    trades = _trades(dt.datetime(2025, 3, 8, tzinfo=dt.UTC), 1, 2).assign(id=[1207, 1208])
    cancel = pd.DataFrame({"timestamp": [trades["timestamp"][1]], "kind": ["cancel"], "id": [9001],
                           "trade_id": [1207], "trade_ts": [trades["timestamp"][0]]})  # fmt: skip
    source, out = tmp_path / "in.parquet", tmp_path / "out.csv"
    pd.concat([trades, cancel], ignore_index=True).to_parquet(source)
    assert main(["bars", "--input", str(source), "--output", str(out), "--granularity", "1m"]) == 0
    assert pd.read_csv(out)["volume"].tolist() == [float(trades["size"][1])]


def test_a_cancel_that_names_no_trade_and_a_bad_kind_are_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trades = _trades(dt.datetime(2025, 3, 8, tzinfo=dt.UTC), 2, 1).assign(id=["a", "b", "c", "d"])
    stray = pd.DataFrame({"timestamp": [trades["timestamp"][3]], "kind": ["cancel"],
                          "trade_id": ["zz"], "trade_ts": [trades["timestamp"][0]]})  # fmt: skip
    got = _run(tmp_path, pd.concat([trades, stray], ignore_index=True), "--granularity", "1m",
               expect=1)  # fmt: skip
    assert list(got["volume"]) == [float(trades["size"][:2].sum()), float(trades["size"][2:].sum())]
    assert "row 5 (line 6): cancel of trade 'zz'" in capsys.readouterr().err
    odd = trades.assign(kind=["trade", "bust", "trade", "trade"])
    assert _refused(tmp_path, odd) == 2
    assert "row 2, column kind: 'bust' is not one of trade, cancel, correction" in (
        capsys.readouterr().err
    )
    nameless = pd.concat([trades, stray.drop(columns=["trade_id"])], ignore_index=True)
    assert _refused(tmp_path, nameless) == 2
    assert "row 5: a cancel needs trade_id and trade_ts" in capsys.readouterr().err
    timeless = pd.concat([trades, stray.drop(columns=["trade_ts"])], ignore_index=True)
    assert _refused(tmp_path, timeless) == 2
    assert "a cancel or correction needs a trade_ts column" in capsys.readouterr().err
    bad_time = pd.concat([trades, stray.assign(trade_ts=["yesterday"])], ignore_index=True)
    assert _refused(tmp_path, bad_time) == 2
    assert "row 5 (line 6), column trade_ts: cannot parse 'yesterday'" in capsys.readouterr().err


def _refused(tmp_path: Path, frame: pd.DataFrame) -> int:
    source = tmp_path / "refused.csv"
    frame.to_csv(source, index=False)
    return main(["bars", "--input", str(source), "--output", str(tmp_path / "no.csv"),
                 "--granularity", "1m"])  # fmt: skip
