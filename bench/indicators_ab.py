"""The default indicator set, this engine against a baseline commit's, in interleaved A/B pairs:
each run is a fresh process on the same bars, the baseline built (compiled, as installed) from
a worktree of that commit. The median of the pairs' ratios is the figure; this machine is too
noisy for absolute rates across runs.

    .venv/bin/python bench/indicators_ab.py [--base REF] [--pairs N] [--bars N]

The default baseline is the engine before every TA-Lib function was added (20 kinds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from interpreter import python
from results import emit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASE = "09a928f"  # the 20-kind engine
RUN = """
import time, numpy as np
from marketpulse.analytics.indicators import DEFAULT_SPECS, Candle, IndicatorSet
rng = np.random.default_rng(7)
n = {bars}
close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
spread = rng.uniform(0, 0.01, n)
volume = rng.integers(1, 10_000, n)
bars = [Candle(i * 60_000_000_000, c, c * (1 + s), c * (1 - s), c, float(v))
        for i, (c, s, v) in enumerate(zip(close, spread, volume))]
indicators = IndicatorSet(DEFAULT_SPECS)
start = time.perf_counter()
for bar in bars:
    indicators.update(bar)
print(n / (time.perf_counter() - start))
"""


def build_base(ref: str, where: Path) -> Path:
    """The baseline commit's package, compiled, unpacked under ``where``."""
    tree = where / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-f", str(tree), ref],
                   check=True, capture_output=True)  # fmt: skip
    try:
        uv = Path(sys.executable).parent / "uv"
        subprocess.run([str(uv), "build", "--wheel", "-o", str(where / "wheel"), str(tree)],
                       check=True, capture_output=True)  # fmt: skip
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       check=True, capture_output=True)  # fmt: skip
    package = where / "package"
    (wheel,) = (where / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(package)
    return package


def rate(bars: int, path: Path | None) -> float:
    """Bars/s of the default set in a fresh process (``path``: the baseline's package)."""
    env = {**os.environ, "PYTHONPATH": str(path)} if path else dict(os.environ)
    out = subprocess.run(python("-c", RUN.format(bars=bars)), check=True,
                         capture_output=True, text=True, env=env)  # fmt: skip
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default=BASE)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--bars", type=int, default=30_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = build_base(args.base, Path(scratch))
        ratios = []
        for i in range(args.pairs):
            if i % 2:  # alternate which goes first
                new, old = rate(args.bars, None), rate(args.bars, base)
            else:
                old, new = rate(args.bars, base), rate(args.bars, None)
            ratios.append(new / old)
            share = new / old
            print(f"pair {i + 1}: baseline {old:,.0f} bars/s, this engine {new:,.0f} ({share:.1%})")
    median = statistics.median(ratios)
    print(f"default set, this engine over {args.base}'s: median {median:.1%} of {args.pairs} pairs")
    emit(f"default indicator set, this engine over {args.base}'s (A/B median)", median * 100, "%",
         95.0)  # fmt: skip


if __name__ == "__main__":
    main()
