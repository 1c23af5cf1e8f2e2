"""The compiled part of the package: pure numeric modules, built to C extensions by mypyc.

Everything else stays interpreted. A module listed here is still plain, typed Python and runs
as such when its ``.so`` is absent; compiled, the indicator set runs about seven times faster.
``make install`` rebuilds the extensions whenever one of these sources changes, and
``tests/unit/test_compiled.py`` fails when an extension is older than its source.
"""

import os

from mypyc.build import mypycify
from setuptools import setup

COMPILED = [
    f"marketpulse/analytics/indicators/{name}.py"
    for name in (
        "base", "windows", "averages", "momentum", "trend", "volatility", "volume", "registry"
    )
]  # fmt: skip

if __name__ == "__main__":
    # The project's mypy settings load the pydantic plugin, which the build environment lacks
    # and these modules do not need.
    options = ["--config-file", os.devnull]
    setup(ext_modules=mypycify([*options, *COMPILED], opt_level="3", group_name="marketpulse"))
