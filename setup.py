"""The compiled part of the package: pure numeric modules, built to C extensions by mypyc.

Everything else stays interpreted. A module listed here is still plain, typed Python and runs
as such when its ``.so`` is absent; compiled, the indicator set runs about seven times faster,
a frame's decode and gate and the signal detectors about twice as fast. ``make install``
rebuilds the extensions whenever one of these sources changes, and
``tests/unit/analytics/indicators/test_compiled.py`` fails when an extension is older than its
source.
"""

import os

from mypyc.build import mypycify
from setuptools import setup

COMPILED = [
    *(
        f"marketpulse/analytics/{name}.py"
        for name in ("frames", "granularity", "sessions", "conditions", "quality", "bars", "ingest")
    ),
    *(
        f"marketpulse/analytics/indicators/{name}.py"
        for name in (
            "base", "windows", "averages", "momentum", "trend", "volatility", "volume", "ranges",
            "transforms", "oscillators", "statistics", "bands", "swings", "flows", "parabolic",
            "cycles", "registry",
        )
    ),
    *(
        f"marketpulse/analytics/patterns/{name}.py"
        for name in ("candles", "candlestick", "engine", "levels", "trend", "charts", "detector")
    ),
]  # fmt: skip

if __name__ == "__main__":
    # The build environment has mypy but not the project's dependencies (nor the pydantic
    # plugin the project's mypy settings load): what these modules import from them is Any to
    # the compiler, as it would be to Python. `make typecheck` checks them with everything.
    options = ["--config-file", os.devnull, "--ignore-missing-imports"]
    setup(ext_modules=mypycify([*options, *COMPILED], opt_level="3", group_name="marketpulse"))
