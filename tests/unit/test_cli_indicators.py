"""`marketpulse indicators`: files in, long CSV out, the same engine, clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
import talib
from talib import abstract

from marketpulse.analytics.indicators.registry import catalog
from marketpulse.cli import main
from tests.market_data import daily_frame


def run(
    tmp_path: Path, frame: pd.DataFrame, name: str = "in.csv", *extra: str
) -> list[dict[str, str]]:
    source = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(source)
    else:
        frame.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    assert main(["indicators", "--input", str(source), "--output", str(out), *extra]) == 0
    with out.open() as handle:
        return list(csv.DictReader(handle))


def series_of(rows: list[dict[str, str]], name: str) -> list[float]:
    return [float(r["value"]) for r in rows if r["indicator"] == name]


def test_output_is_long_csv_equal_to_talib(tmp_path: Path) -> None:
    frame = daily_frame()
    rows = run(tmp_path, frame, "in.csv", "--symbol", "GOOG")
    assert list(rows[0]) == ["timestamp", "symbol", "indicator", "value"]
    assert {r["symbol"] for r in rows} == {"GOOG"}
    assert rows[0]["timestamp"] == "2004-08-19T00:00:00Z"  # the series' first day
    close = frame["close"].to_numpy(dtype=float)
    for name, expected in {
        "sma_20": talib.SMA(close, 20),
        "rsi_14": talib.RSI(close, 14),
        "macdhist_12_26_9": talib.MACD(close, 12, 26, 9)[2],
    }.items():
        defined = expected[~np.isnan(expected)]
        assert series_of(rows, name) == pytest.approx(list(defined), rel=1e-9, abs=1e-12)
    first_rsi = next(r for r in rows if r["indicator"] == "rsi_14")
    assert first_rsi["timestamp"] == frame["timestamp"][14] + "T00:00:00Z"


@pytest.mark.parametrize(
    "convert",
    [
        lambda t: t.dt.strftime("%Y-%m-%dT%H:%M:%S-05:00"),  # an offset: shifts every bar alike
        lambda t: (t.dt.as_unit("s").astype("int64")).astype(str),  # epoch seconds
        lambda t: (t.dt.as_unit("ms").astype("int64")).astype(str),  # epoch milliseconds
        lambda t: (t.dt.as_unit("ns").astype("int64")).astype(str),  # epoch nanoseconds
    ],
)
def test_timestamp_forms_give_the_same_values(tmp_path: Path, convert) -> None:  # type: ignore[no-untyped-def]
    frame = daily_frame()
    iso = run(tmp_path, frame, "a.csv", "--symbol", "GOOG")
    other = frame.copy()
    other["timestamp"] = convert(pd.to_datetime(frame["timestamp"]))
    converted = run(tmp_path, other, "b.csv", "--symbol", "GOOG")
    assert [(r["indicator"], r["value"]) for r in converted] == [
        (r["indicator"], r["value"]) for r in iso
    ]


def test_parquet_and_symbol_column(tmp_path: Path) -> None:
    frame = daily_frame()
    two = pd.concat([frame.assign(symbol="GOOG"), frame.assign(symbol="COPY")])
    from_csv = run(tmp_path, frame, "a.csv", "--symbol", "GOOG", "--indicators", "ema_12,obv")
    from_parquet = run(tmp_path, two, "b.parquet", "--symbol", "GOOG", "--indicators", "ema_12,obv")
    assert from_parquet == from_csv
    both = run(tmp_path, two, "c.parquet", "--indicators", "obv")
    assert {r["symbol"] for r in both} == {"GOOG", "COPY"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(columns=["volume"]), "missing column(s) volume"),
        (
            lambda f: f.assign(timestamp=f["timestamp"].where(f.index != 4, "yesterday")),
            "row 5 (line 6), column timestamp",
        ),
        (
            lambda f: f.assign(close=f["close"].where(f.index != 7, "NaN")),
            "row 8 (line 9), column close",
        ),
        (lambda f: f.assign(open=f["open"].where(f.index != 2, "")), "row 3 (line 4), column open"),
        (
            lambda f: f.assign(volume=f["volume"].where(f.index != 9, -1)),
            "row 10 (line 11), column volume",
        ),
        (
            lambda f: f.assign(high=f["high"].where(f.index != 3, 1.0)),
            "row 4 (line 5), column high/low",
        ),
        (lambda f: f.iloc[[0, 2, 1, 3]], "row 3 (line 4), column timestamp: not after"),
    ],
)
def test_bad_input_names_row_and_column(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    source = tmp_path / "bad.csv"
    edit(daily_frame()).to_csv(source, index=False)
    code = main(["indicators", "--input", str(source), "--output", str(tmp_path / "o.csv")])
    assert code != 0
    assert message in capsys.readouterr().err


def _noisy(frame: pd.DataFrame) -> pd.DataFrame:
    """The series as adjusted data ships: some closes an ulp or a few outside their range."""
    noisy = frame.copy()
    for column in ("open", "high", "low", "close", "volume"):
        noisy[column] = noisy[column].astype(float)
    noisy.loc[5, "close"] = np.nextafter(noisy.loc[5, "low"], 0.0)  # one ulp below the low
    noisy.loc[9, "close"] = noisy.loc[9, "high"] * (1 + 4e-16)  # a few ulps above the high
    noisy.loc[12, "open"] = noisy.loc[12, "low"] * (1 - 3e-16)
    return noisy


def test_float_noise_outside_the_range_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _noisy(daily_frame())
    rows = run(tmp_path, frame)  # exit status 0
    assert "skipped" not in capsys.readouterr().err
    expected = talib.SMA(frame["close"].to_numpy(dtype=float), 20)
    assert series_of(rows, "sma_20") == pytest.approx(list(expected[~np.isnan(expected)]))


def test_a_really_inconsistent_bar_is_reported_and_skipped_or_stops_with_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _noisy(daily_frame())
    frame.loc[30, "high"] = frame.loc[30, "close"] * 0.99  # a cent in the dollar: a real fault
    frame.loc[40, "volume"] = -5.0
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    assert main(["indicators", "--input", str(source), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "skipped: " + str(source) + ": row 31 (line 32), column high/low" in err
    assert "skipped: " + str(source) + ": row 41 (line 42), column volume" in err
    assert f"{len(frame) - 2} bars" in err
    assert "2 rows skipped" in err
    with out.open() as handle:
        written = list(csv.DictReader(handle))
    kept = frame.drop(index=[30, 40])["close"].to_numpy(dtype=float)
    expected = talib.SMA(kept, 20)
    assert series_of(written, "sma_20") == pytest.approx(list(expected[~np.isnan(expected)]))

    strict = tmp_path / "strict.csv"
    code = main(["indicators", "--input", str(source), "--output", str(strict), "--strict"])
    assert code == 2
    assert "row 31 (line 32), column high/low" in capsys.readouterr().err
    assert not strict.exists()


def test_the_catalog_lists_every_spec_with_talibs_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indicators", "--catalog"]) == 0
    entries = orjson.loads(capsys.readouterr().out)
    sma = next(e for e in entries if e["spec"] == "sma_30")
    assert sma == {
        "spec": "sma_30", "function": "SMA", "group": "Overlap Studies", "overlay": True,
        "parameters": {"timeperiod": 30}, "inputs": {"price": "close"},
        "outputs": {"sma_30": "real"},
    }  # fmt: skip
    functions = {e["function"] for e in entries}
    assert {"SMA", "BBANDS", "MINMAXINDEX", "KAMA", "T3", "ACOS", "ADD"} <= functions
    for entry in entries:  # every entry's parameters are TA-Lib's, and TA-Lib takes them
        abstract.Function(entry["function"], **entry["parameters"])


def test_all_computes_every_spec_of_the_catalog(tmp_path: Path) -> None:
    rows = run(tmp_path, daily_frame(120), "in.csv", "--indicators", "all")
    names = {r["indicator"] for r in rows}
    for entry in catalog():
        undefined = entry["function"] in ("ACOS", "ASIN")  # of prices above 1: NaN in TA-Lib
        assert bool(set(entry["outputs"]) & names) != undefined, entry["spec"]


def test_input_and_output_are_needed_without_the_catalog(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["indicators", "--input", "x.csv"]) == 2
    assert "--input and --output are required (or --catalog)" in capsys.readouterr().err
