"""The modules setup.py compiles with mypyc: loaded compiled, current, and equal to their source
(the indicator set and the signal detectors)."""

from __future__ import annotations

import importlib
import math
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from marketpulse.analytics.indicators import DEFAULT_SPECS, Candle, IndicatorSet
from marketpulse.analytics.indicators.registry import expand, layout
from marketpulse.analytics.patterns.detector import DetectorConfig, SignalDetector
from marketpulse.schemas.bars import Bar
from tests.market_data import random_walk, with_flats_and_gaps
from tests.unit.analytics.patterns.test_detector import hourly
from tests.unit.analytics.patterns.test_levels_and_charts import path
from tests.workers import REPO

COMPILED: list[str] = runpy.run_path(str(REPO / "setup.py"), run_name="setup")["COMPILED"]

# Runs the indicator set on the series given on stdin and prints every output, the final state,
# and the layout of every catalog spec's state.
SCRIPT = """
import sys, orjson
from marketpulse.analytics.indicators import Candle, IndicatorSet
from marketpulse.analytics.indicators.registry import expand, layout
import marketpulse.analytics.indicators.base as base
assert base.__file__.endswith(".py"), base.__file__
specs, rows = orjson.loads(sys.stdin.buffer.read())
indicators = IndicatorSet(specs)
outputs = [indicators.update(Candle(*row)) for row in rows]
every = {spec: layout((spec,)) for spec in expand(["all"])}
sys.stdout.buffer.write(orjson.dumps([outputs, indicators.state(), every]))
"""

# Runs the signal detectors on the bars and indicator values given on stdin and prints every
# signal and the final state.
DETECTOR_SCRIPT = """
import sys, orjson
from marketpulse.analytics.patterns.detector import DetectorConfig, SignalDetector
from marketpulse.schemas.bars import Bar
import marketpulse.analytics.patterns.engine as engine
assert engine.__file__.endswith(".py"), engine.__file__
bars, values = orjson.loads(sys.stdin.buffer.read())
detector = SignalDetector.new(DetectorConfig())
signals = [[s.model_dump(mode="json") for s in detector.update(Bar(**bar), each)]
           for bar, each in zip(bars, values)]
sys.stdout.buffer.write(orjson.dumps([signals, detector.state()]))
"""


def _interpreted(tmp_path: Path) -> Path:
    """The package's sources with no extension beside them: every module runs interpreted."""
    root = tmp_path / "interpreted"
    shutil.copytree(REPO / "marketpulse", root / "marketpulse",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))  # fmt: skip
    return root


def test_every_listed_module_is_loaded_compiled_and_not_stale() -> None:
    assert COMPILED
    for source in COMPILED:
        module = importlib.import_module(source.removesuffix(".py").replace("/", "."))
        extension = Path(module.__file__ or "")
        assert extension.suffix == ".so", f"{source} runs interpreted: run `make install`"
        assert extension.stat().st_mtime >= (REPO / source).stat().st_mtime, (
            f"{extension.name} is older than {source}: run `make install`"
        )


def test_no_module_left_out_of_the_list_is_loaded_compiled() -> None:
    """An extension left behind by a module taken off the list would shadow its source."""
    listed = {str(REPO / source).removesuffix(".py") for source in COMPILED}
    for extension in (REPO / "marketpulse").rglob("*.cpython-*.so"):
        module = str(extension).split(".cpython-")[0]
        assert module in listed, f"{extension} is not built from setup.py's list: delete it"


def test_compiled_and_interpreted_give_identical_outputs_and_state(tmp_path: Path) -> None:
    rows = []
    for series in (random_walk(400, 11), with_flats_and_gaps(3)):
        start = len(rows)
        rows += [
            [(start + i) * 3_600_000_000_000, *map(float, bar)]
            for i, bar in enumerate(
                zip(series.open, series.high, series.low, series.close, series.volume, strict=True)
            )
        ]
    compiled = IndicatorSet(DEFAULT_SPECS)
    expected = [compiled.update(Candle(*row)) for row in rows]

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=orjson.dumps([list(DEFAULT_SPECS), rows]),
        capture_output=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(_interpreted(tmp_path))},
        check=True,
    )
    outputs, state, every = orjson.loads(result.stdout)

    assert sum(map(len, expected)) > 10_000
    assert outputs == expected  # exact: the same double arithmetic in the same order
    assert state == orjson.loads(orjson.dumps(compiled.state()))
    # states are positional: either build reads the other's, for every spec
    assert every == {spec: layout((spec,)) for spec in expand(["all"])}


def test_compiled_and_interpreted_detectors_give_identical_signals_and_state(
    tmp_path: Path,
) -> None:
    # shapes the levels and chart patterns find, then a long walk for the candlesticks and the
    # trend rules (which read the indicators' values)
    closes = path([90, 110, 100, 110.5, 95, 104, 98, 108, 97, 103, 96, 85])
    bars = hourly(closes)
    walk = random_walk(500, 5)
    scale = closes[-1] / float(walk.close[0])
    for o, h, l, c in zip(walk.open, walk.high, walk.low, walk.close, strict=True):  # noqa: E741
        last = bars[-1]
        bars.append(last.model_copy(update={
            "start": last.end, "end": 2 * last.end - last.start, "open": float(o) * scale,
            "high": float(h) * scale, "low": float(l) * scale, "close": float(c) * scale,
        }))  # fmt: skip
    indicators = IndicatorSet(DEFAULT_SPECS)
    values = [
        {name: v for name, v in indicators.update(_candle(bar)).items() if math.isfinite(v)}
        for bar in bars
    ]
    compiled = SignalDetector.new(DetectorConfig())
    expected = [
        [s.model_dump(mode="json") for s in compiled.update(bar, each)]
        for bar, each in zip(bars, values, strict=True)
    ]

    result = subprocess.run(
        [sys.executable, "-c", DETECTOR_SCRIPT],
        input=orjson.dumps([[bar.model_dump() for bar in bars], values]),
        capture_output=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(_interpreted(tmp_path))},
        check=True,
    )
    signals, state = orjson.loads(result.stdout)

    kinds = {signal["kind"] for each in expected for signal in each}
    assert kinds == {"candlestick", "trend", "level", "chart"}
    assert signals == expected  # exact: the same double arithmetic in the same order
    assert state == orjson.loads(orjson.dumps(compiled.state()))


def _candle(bar: Bar) -> Candle:
    return Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)
