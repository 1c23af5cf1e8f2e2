"""The engine alone (``bench/pipeline.py``'s work alone: the worker's pure frame step, every
record and state encoded), this checkout against a baseline commit's, counted by callgrind:
instructions a frame.

The frames (8 symbols, 200-quote frames, 1 s bars, so that every frame closes a bar and
advances its series) are made once and handed to every run. Callgrind counts a whole process;
a run over all the frames less one over a tenth of them leaves the frames' own instructions
(the interpreter's start, the imports and the set-up cancel). A count is the same from one run
to the next whatever else the machine does; it does not see what memory costs.

    .venv/bin/python bench/engine_ab.py [--base REF] [--slices N]
"""

from __future__ import annotations

import argparse
import pickle
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from indicators_ab import build_base, child_env
from interpreter import python
from pipeline import S, frames
from results import emit

from marketpulse.clock import SystemClock
from marketpulse.streams.sources.synthetic import SyntheticMarket

HERE = Path(__file__).resolve().parent
BASE = "42f05db"  # the engine before its detectors were compiled
SYMBOLS = 8
RUN = """
import pickle, sys
sys.path.insert(0, {bench!r})
from engine_step import bench_settings, work_alone
from marketpulse.settings import Settings
with open({frames!r}, "rb") as file:
    backlog = pickle.load(file)[: {count}]
work_alone(bench_settings(Settings()), backlog)
"""


def instructions(backlog: Path, count: int, path: Path | None) -> int:
    """Instructions of a fresh process stepping the first ``count`` frames (``path``: the
    baseline's package)."""
    # the same dict layouts, and no idle BLAS threads spinning beside the step: the same count
    env = child_env(path) | {"PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    run = RUN.format(bench=str(HERE), frames=str(backlog), count=count)
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/callgrind.out",
             *python("-c", run)],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"callgrind counted nothing: {out.stderr[-500:]}")
    return int(found.group(1))


def per_frame(backlog: Path, count: int, path: Path | None) -> float:
    """Instructions a frame: ``count`` frames less a tenth of them, over the difference."""
    few = count // 10
    return (instructions(backlog, count, path) - instructions(backlog, few, path)) / (count - few)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default=BASE)
    parser.add_argument("--slices", type=int, default=50, help="seconds of frames, 8 a second")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        print("no valgrind: no instruction count")
        return
    market = SyntheticMarket([f"B{i:03d}" for i in range(SYMBOLS)], seed=5)
    start = (SystemClock().now_ns() // S - 7200) * S
    count = args.slices * SYMBOLS
    with tempfile.TemporaryDirectory() as scratch:
        backlog = Path(scratch) / "frames.pickle"
        backlog.write_bytes(pickle.dumps(frames(market, start, args.slices, 200)))
        base = build_base(args.base, Path(scratch))
        old, new = per_frame(backlog, count, base), per_frame(backlog, count, None)
    print(f"instructions a frame: {args.base} {old / 1e6:.2f} M, this checkout {new / 1e6:.2f} M "
          f"({new / old:.1%})")  # fmt: skip
    emit("engine alone: instructions a frame (callgrind, 200-quote frames, 1 s bars)",
         new / 1e6, "M", lower_is_better=True)  # fmt: skip
    emit(f"engine alone: instructions a frame, this checkout's over {args.base}'s",
         new / old * 100, "%", lower_is_better=True)  # fmt: skip


if __name__ == "__main__":
    main()
