"""Every TA-Lib function of the engine: bars/s with all of them on, and each one's cost at
periods 10 and 1,000 (the incremental update is O(1): the two within 2x, except for the
functions whose definition needs their window).

    .venv/bin/python bench/indicators_catalog.py [--bars N]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Any

import numpy as np
from results import emit

from marketpulse.analytics.indicators import Candle, IndicatorSet
from marketpulse.analytics.indicators.registry import KINDS, catalog
from marketpulse.analytics.indicators.talib_functions import FUNCTIONS

# Functions whose definition needs the window (docs/indicators.md, "Cost").
WINDOWED = {
    "AVGDEV", "CCI", "LINEARREG", "LINEARREG_SLOPE", "LINEARREG_INTERCEPT", "LINEARREG_ANGLE",
    "TSF", "FOSC", "PERCENTILE", "PERCENTRANK", "FRACTAL",
}  # fmt: skip
PERIODS = (10, 1_000)


def candles(n: int) -> list[Candle]:
    """A random walk of ``n`` minute bars."""
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    spread = rng.uniform(0, 0.01, n)
    volume = rng.integers(1, 10_000, n)
    return [
        Candle(i * 60_000_000_000, c, c * (1 + s), c * (1 - s), c, float(v))
        for i, (c, s, v) in enumerate(zip(close, spread, volume, strict=True))
    ]


def rate(specs: list[str], bars: list[Candle]) -> float:
    """Bars per second of an indicator set over ``bars``."""
    indicators = IndicatorSet(specs)
    start = time.perf_counter()
    for candle in bars:
        indicators.update(candle)
    return len(bars) / (time.perf_counter() - start)


def at_period(entry: dict[str, Any], period: int) -> str | None:
    """The entry's spec with every period parameter set to ``period`` (None: it has none)."""
    kind = max((k for k in KINDS if entry["spec"] == k or entry["spec"].startswith(f"{k}_")),
               key=len)  # fmt: skip
    values = dict(entry["parameters"])
    periods = [n for n in KINDS[kind].spec_order if n.endswith("period") or n.startswith("time")]
    if not periods:
        return None
    for name in periods:
        values[name] = period
    return "_".join([kind, *(str(values[n]) for n in KINDS[kind].spec_order)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=5_000)
    args = parser.parse_args()
    bars = candles(args.bars)
    entries = catalog()
    everything = rate([e["spec"] for e in entries], bars)
    print(f"all {len(entries)} specs: {everything:,.0f} bars/s")
    emit(f"indicator engine, all {len(entries)} specs, one core", everything, "bars/s")

    long_bars = candles(3 * max(PERIODS) + args.bars)
    worst: dict[str, tuple[float, str]] = defaultdict(lambda: (0.0, ""))
    print(f"{'spec at 10':32} {'bars/s':>12} {'at 1,000':>12} {'ratio':>6}")
    for entry in entries:
        short, long = at_period(entry, PERIODS[0]), at_period(entry, PERIODS[1])
        if short is None or long is None or entry["spec"].startswith("bb_"):
            continue
        fast, slow = rate([short], long_bars), rate([long], long_bars)
        ratio = fast / slow
        windowed = entry["function"] in WINDOWED
        note = " (window)" if windowed else ""
        print(f"{short:32} {fast:12,.0f} {slow:12,.0f} {ratio:6.2f}{note}")
        group = FUNCTIONS[entry["function"]]["group"]
        if not windowed and ratio > worst[group][0]:
            worst[group] = (ratio, entry["function"])
    for group, (ratio, function) in sorted(worst.items()):
        emit(f"O(1) update, {group}: period 10 over 1,000 (worst: {function})", ratio, "x", 2.0,
             lower_is_better=True)  # fmt: skip


if __name__ == "__main__":
    main()
