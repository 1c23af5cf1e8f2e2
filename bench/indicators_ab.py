"""The default indicator set, this engine against a baseline commit's, the baseline built
(compiled, as installed) from a worktree of that commit, in two measures:

1. instructions a bar (the figure with the target): ``valgrind --tool=callgrind`` counts the
   instructions run inside the set's ``update`` over the same bars, for each build. A count
   is the same from one run to the next whatever else the machine does, where wall-clock
   rates on this shared machine move by half between two runs of the same build; it does not
   see a difference that is all in memory (the set's objects are in the CPU's cache here);
2. bars a second, in interleaved A/B pairs of fresh processes, each the best of a few passes;
   the median of the pairs' ratios.

    .venv/bin/python bench/indicators_ab.py [--base REF] [--pairs N] [--bars N]

The default baseline is the engine before every TA-Lib function was added (20 kinds).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
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
# the compiled set's update as Python calls it: both builds compile the indicators
UPDATE = "CPyPy_registry___IndicatorSet___update"
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
best = 0.0
for _ in range({repeats}):
    indicators = IndicatorSet(DEFAULT_SPECS)
    start = time.perf_counter()
    for bar in bars:
        indicators.update(bar)
    best = max(best, n / (time.perf_counter() - start))
print(best)
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


def rate(bars: int, repeats: int, path: Path | None) -> float:
    """Bars/s of the default set in a fresh process (``path``: the baseline's package): the
    best of ``repeats`` passes over the bars, each with a new set, as ``timeit`` takes the
    least of its repeats (a pass is a fraction of a second, and this machine's other tenants
    slow one pass or another; the fastest is the one they disturbed least)."""
    out = subprocess.run(python("-c", RUN.format(bars=bars, repeats=repeats)), check=True,
                         capture_output=True, text=True, env=child_env(path))  # fmt: skip
    return float(out.stdout.strip())


def instructions(bars: int, path: Path | None) -> int:
    """Instructions run inside the set's ``update`` over ``bars`` bars (one pass), counted by
    callgrind in a fresh process (``path``: the baseline's package)."""
    env = child_env(path) | {"PYTHONHASHSEED": "0"}  # the same dict layouts: the same count again
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--toggle-collect={UPDATE}",
             f"--callgrind-out-file={scratch}/callgrind.out",
             *python("-c", RUN.format(bars=bars, repeats=1))],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None or int(found.group(1)) == 0:
        raise RuntimeError(f"callgrind counted nothing inside {UPDATE}: {out.stderr[-500:]}")
    return int(found.group(1))


def child_env(path: Path | None) -> dict[str, str]:
    """A child's environment: this one's, with the baseline's package first on the path."""
    return {**os.environ, "PYTHONPATH": str(path)} if path else dict(os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default=BASE)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--bars", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--counted-bars", type=int, default=10_000)  # under valgrind: 50x slower
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = build_base(args.base, Path(scratch))
        counted = None
        if shutil.which("valgrind"):
            old_count = instructions(args.counted_bars, base)
            new_count = instructions(args.counted_bars, None)
            counted = old_count / new_count
            per_bar = [count / args.counted_bars for count in (old_count, new_count)]
            print(f"instructions a bar: baseline {per_bar[0]:,.0f}, this engine {per_bar[1]:,.0f} "
                  f"({counted:.1%} as fast)")  # fmt: skip
        else:
            print("no valgrind: no instruction count")
        ratios = []
        for i in range(args.pairs):
            if i % 2:  # alternate which goes first
                new, old = rate(args.bars, args.repeats, None), rate(args.bars, args.repeats, base)
            else:
                old, new = rate(args.bars, args.repeats, base), rate(args.bars, args.repeats, None)
            share = new / old
            ratios.append(share)
            print(f"pair {i + 1}: baseline {old:,.0f} bars/s, this engine {new:,.0f} ({share:.1%})")
    median = statistics.median(ratios)
    print(f"default set, this engine over {args.base}'s: median {median:.1%} of {args.pairs} pairs")
    if counted is not None:
        emit(f"default indicator set, this engine over {args.base}'s: its instructions a bar "
             "over ours (callgrind)", counted * 100, "%", 95.0)  # fmt: skip
    emit(f"default indicator set, this engine over {args.base}'s (A/B median of bars/s)",
         median * 100, "%")  # fmt: skip


if __name__ == "__main__":
    main()
