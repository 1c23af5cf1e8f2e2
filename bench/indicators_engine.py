"""How many bars per second the full default indicator set takes, on one core.

    .venv/bin/python bench/indicators_engine.py [--bars N]

Target (issue 3): at least 50,000 bars/s.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from results import emit

from marketpulse.analytics.indicators import DEFAULT_SPECS, Candle, IndicatorSet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, args.bars)))
    spread = rng.uniform(0, 0.01, args.bars)
    candles = [
        Candle(i * 60_000_000_000, c, c * (1 + s), c * (1 - s), c, float(v))
        for i, (c, s, v) in enumerate(
            zip(close, spread, rng.integers(1, 10_000, args.bars), strict=True)
        )
    ]
    indicators = IndicatorSet(DEFAULT_SPECS)
    start = time.perf_counter()
    for candle in candles:
        indicators.update(candle)
    elapsed = time.perf_counter() - start
    outputs = len(indicators.outputs())
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(f"indicators: {len(DEFAULT_SPECS)} specs, {outputs} outputs")
    print(f"engine: {args.bars / elapsed:,.0f} bars/s ({elapsed / args.bars * 1e6:.1f} us/bar)")
    emit("indicator engine, 23 specs, one core", args.bars / elapsed, "bars/s", 50_000)


if __name__ == "__main__":
    main()
