"""The engine A/B's instruction count: a run over more frames less one over fewer leaves the
frames' own instructions (the interpreter's start, the imports and the set-up cancel)."""

from __future__ import annotations

import pickle
from pathlib import Path

from marketpulse.streams.sources.synthetic import SyntheticMarket
from tests.bench_scripts import load


def test_the_count_is_of_the_frames(tmp_path: Path) -> None:
    engine_ab, pipeline = load("engine_ab"), load("pipeline")
    market = SyntheticMarket(["A", "B"], seed=1)
    backlog = tmp_path / "frames.pickle"
    start = 1_700_000_000 * pipeline.S
    backlog.write_bytes(pickle.dumps(pipeline.frames(market, start, 10, 200)))
    two, twenty = (engine_ab.instructions(backlog, count, None) for count in (2, 20))
    # a 200-quote frame decoded, gated, folded into bars and encoded: millions of instructions
    assert (twenty - two) / 18 > 1_000_000
