"""`marketpulse patterns`: the indicators command's input, long CSV of every pattern, zeros too."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import talib

from marketpulse.analytics.patterns.candlestick import REGISTRY
from marketpulse.cli import main
from tests.market_data import daily_frame


def run(tmp_path: Path, *extra: str) -> list[dict[str, str]]:
    frame = daily_frame()
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    assert main(["patterns", "--input", str(source), "--output", str(out), *extra]) == 0
    with out.open() as handle:
        return list(csv.DictReader(handle))


def test_every_pattern_on_every_bar_equals_talib(tmp_path: Path) -> None:
    rows = run(tmp_path, "--symbol", "GOOG")
    frame = daily_frame()
    assert list(rows[0]) == ["timestamp", "symbol", "pattern", "value"]
    assert len(rows) == len(frame) * len(REGISTRY)  # zeros included
    assert rows[0]["timestamp"] == "2004-08-19T00:00:00Z"
    o, h, l, c = (frame[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close"))  # noqa: E741
    for name in REGISTRY:
        got = [int(r["value"]) for r in rows if r["pattern"] == name]
        assert got == list(getattr(talib, name.upper())(o, h, l, c)), name
    assert any(int(r["value"]) for r in rows)


def test_a_chosen_subset_and_an_unknown_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run(tmp_path, "--symbol", "GOOG", "--patterns", "cdldoji,cdlengulfing")
    assert {r["pattern"] for r in rows} == {"cdldoji", "cdlengulfing"}
    values = np.array([int(r["value"]) for r in rows])
    assert set(values) <= {0, 100, -100, 80, -80}
    source = tmp_path / "in.csv"
    args = ["patterns", "--input", str(source), "--output", "-", "--patterns", "cdlnope,cdldoji"]
    assert main(args) == 2
    assert "unknown patterns: cdlnope;" in capsys.readouterr().err


def test_a_bad_row_is_skipped_or_with_strict_stops_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = daily_frame()
    frame.loc[3, "low"] = float(frame.loc[3, "close"]) * 1.5  # the low above the close
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    assert main(["patterns", "--input", str(source), "--output", str(out)]) == 1
    assert "skipped: " in capsys.readouterr().err
    with out.open() as handle:
        days = {row["timestamp"] for row in csv.DictReader(handle)}
    assert len(days) == len(frame) - 1
    strict = ["patterns", "--input", str(source), "--output", str(out), "--strict"]
    assert main(strict) == 2
    assert "row 4 (line 5), column high/low" in capsys.readouterr().err
