"""The modules setup.py compiles with mypyc: loaded compiled, current, and equal to their source."""

from __future__ import annotations

import importlib
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from marketpulse.analytics.indicators import DEFAULT_SPECS, Candle, IndicatorSet
from marketpulse.analytics.indicators.registry import expand, layout
from tests.market_data import random_walk, with_flats_and_gaps
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
    package = tmp_path / "marketpulse" / "analytics" / "indicators"
    package.mkdir(parents=True)
    for init in ("marketpulse/__init__.py", "marketpulse/analytics/__init__.py"):
        shutil.copy(REPO / init, tmp_path / init)
    for source in (REPO / "marketpulse" / "analytics" / "indicators").glob("*.py"):
        shutil.copy(source, package / source.name)
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
        env={"PYTHONPATH": str(tmp_path)},
        check=True,
    )
    outputs, state, every = orjson.loads(result.stdout)

    assert sum(map(len, expected)) > 10_000
    assert outputs == expected  # exact: the same double arithmetic in the same order
    assert state == orjson.loads(orjson.dumps(compiled.state()))
    # states are positional: either build reads the other's, for every spec
    assert every == {spec: layout((spec,)) for spec in expand(["all"])}
