"""How many bars per second the candlestick engine takes with every pattern, on one core.

    .venv/bin/python bench/patterns_engine.py [--bars N]

Target (issue 4): at least 20,000 bars/s.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from marketpulse.analytics.patterns.candlestick import REGISTRY
from marketpulse.analytics.patterns.engine import CandlestickSet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, args.bars))), 2)
    open_ = np.round(
        np.concatenate([[100.0], close[:-1]]) * (1 + rng.normal(0, 0.002, args.bars)), 2
    )
    high = np.maximum(open_, close) + np.round(rng.uniform(0, 0.5, args.bars), 2)
    low = np.minimum(open_, close) - np.round(rng.uniform(0, 0.5, args.bars), 2)
    bars = [tuple(map(float, row)) for row in zip(open_, high, low, close, strict=True)]
    runs = []
    for _ in range(args.repeat):  # the best of several runs: this VM's neighbours are noisy
        engine = CandlestickSet()
        start = time.perf_counter()
        for o, h, l, c in bars:  # noqa: E741
            engine.update(o, h, l, c)
        runs.append(time.perf_counter() - start)
    elapsed = min(runs)
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(
        f"{len(REGISTRY)} patterns, {args.bars:,} bars: {args.bars / elapsed:,.0f} bars/s "
        f"({elapsed / args.bars * 1e6:.0f} µs/bar)"
    )


if __name__ == "__main__":
    main()
