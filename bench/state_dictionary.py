"""How much the dictionary that the state records are compressed with saves on this code's
states, and how much a dictionary made afresh from them would; ``--write`` makes that one.

    .venv/bin/python bench/state_dictionary.py [--write PATH]

A state record is small (a few KB) and mostly structure that every record repeats: the same
keys, nesting and windows in the same places. Zstandard compresses such records far better with
a dictionary that holds a typical one (:mod:`marketpulse.tables.checkpoints`). A dictionary is
fixed for good once records were written with it; when the states' format has moved away from
it (this benchmark's fresh dictionary saving clearly more than the shipped one), the next one
is written with ``--write`` under the next number and added beside it.

A dictionary's content: a symbol's gate and bar state after two minutes of the synthetic
market; a series of every catalog spec, then one of the default set, each warmed on 300 minute
bars on a cent grid (the default set last: a nearer match costs fewer bits).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import zstandard
from results import emit
from state_cost import minute_bars, symbol_state, warmed

from marketpulse.analytics.indicators.registry import catalog
from marketpulse.settings import Settings
from marketpulse.tables.checkpoints import compress


def content(seed: int) -> bytes:
    """A dictionary's content from states of this code (its series warmed on bars of
    ``seed`` and the next)."""
    config = Settings().step_config()
    every = tuple(entry["spec"] for entry in catalog())
    return b"\n".join(
        (
            symbol_state(config).to_bytes(),
            warmed(every, config.detector, minute_bars(300, seed + 1)).to_bytes(),
            warmed(config.indicators, config.detector, minute_bars(300, seed)).to_bytes(),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", type=Path, help="write a fresh dictionary's content here")
    args = parser.parse_args()
    config = Settings().step_config()
    state = warmed(config.indicators, config.detector, minute_bars(300, 1)).to_bytes()
    fresh = zstandard.ZstdCompressor(
        level=1,
        dict_data=zstandard.ZstdCompressionDict(
            content(99), dict_type=zstandard.DICT_TYPE_RAWCONTENT
        ),
    )
    plain = zstandard.ZstdCompressor(level=1)
    shipped, afresh, none = (
        len(compress(state)),
        len(fresh.compress(state)),
        len(plain.compress(state)),
    )
    print(f"a series of the default set, warmed: {len(state):,} bytes of JSON; compressed "
          f"{shipped:,} with the shipped dictionary, {afresh:,} with one made afresh, "
          f"{none:,} with none")  # fmt: skip
    emit("state bytes a series with the shipped dictionary over one made afresh",
         shipped / afresh, "x", 1.05, lower_is_better=True)  # fmt: skip
    if args.write:
        args.write.write_bytes(content(99))
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
