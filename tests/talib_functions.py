"""TA-Lib's own description of its non-pattern functions, as the engine's catalog ships it.

TA-Lib's Python wrapper gives each function's group, inputs, parameters with defaults and outputs,
but not the parameters' valid ranges: those are found here by asking the C library, which refuses
a value out of range with TA_BAD_PARAM. The result is written to
``marketpulse/analytics/indicators/talib_functions.py`` (run this module, then ``ruff format``
it), and a unit test checks that the shipped table is what the installed TA-Lib says.
"""

from __future__ import annotations

import pprint
from typing import Any

import numpy as np
import talib
from talib import abstract

PATH = "marketpulse/analytics/indicators/talib_functions.py"
INT_MIN, INT_MAX = -(2**31) + 1, 2**31 - 1  # -2**31 itself is TA-Lib's "use the default"
REAL_LIMIT = 3e37  # TA-Lib's TA_REAL_MIN / TA_REAL_MAX bounds for an unbounded real
SKIPPED = {"MAVP"}  # its period is an input series, not a parameter

_rng = np.random.default_rng(7)
_close = 100 + np.cumsum(_rng.normal(0, 1, 400))
_PRICES = {
    "open": _close + _rng.normal(0, 0.3, 400),
    "high": _close + 1.5,
    "low": _close - 1.5,
    "close": _close,
    "volume": _rng.uniform(100, 1000, 400),
}


def _accepts(name: str, parameters: dict[str, Any]) -> bool:
    function = abstract.Function(name)
    try:
        function(_PRICES, **parameters)
    except Exception as exc:
        if "TA_BAD_PARAM" in str(exc):
            return False
        raise
    return True


def _edge(name: str, param: str, good: float, bad: float, integer: bool) -> float:
    """The last accepted value between an accepted ``good`` and a refused ``bad``."""
    for _ in range(2200):  # enough halvings to reach any double
        middle = (good + bad) // 2 if integer else (good + bad) / 2
        if middle in (good, bad):
            break
        if _accepts(name, {param: int(middle) if integer else middle}):
            good = middle
        else:
            bad = middle
    return good


def _range(name: str, param: str, default: float, integer: bool) -> tuple[float, float]:
    low_probe = INT_MIN if integer else -REAL_LIMIT
    high_probe = INT_MAX if integer else REAL_LIMIT
    cast = int if integer else float
    low = (
        low_probe
        if _accepts(name, {param: cast(low_probe)})
        else _edge(name, param, default, low_probe, integer)
    )
    high = (
        high_probe
        if _accepts(name, {param: cast(high_probe)})
        else _edge(name, param, default, high_probe, integer)
    )
    if not integer:  # the boundary as TA-Lib writes it (0.01, not 0.010000000000000002)
        low, high = (float(f"{v:.12g}") + 0.0 for v in (low, high))  # and 0.0, not -0.0
    return cast(low), cast(high)


def describe(name: str) -> dict[str, Any]:
    """One function's entry: group, inputs, parameters with default and range, outputs."""
    info = abstract.Function(name).info
    parameters = []
    for param, default in info["parameters"].items():
        integer = isinstance(default, int)
        low, high = _range(name, param, default, integer)
        kind = "matype" if param.endswith("matype") else "int" if integer else "float"
        parameters.append(
            {"name": param, "type": kind, "default": default, "min": low, "max": high}
        )
    return {
        "group": info["group"],
        "display_name": info["display_name"],
        # drawn over the prices (a band, an average) rather than in a pane of its own
        "overlay": "Output scale same as input" in info["function_flags"],
        "inputs": dict(info["input_names"]),
        "parameters": parameters,
        "outputs": list(info["output_names"]),
    }


def functions() -> dict[str, Any]:
    """Every non-pattern function but MAVP, by name."""
    names = sorted(
        name
        for group, members in talib.get_function_groups().items()
        if group != "Pattern Recognition"
        for name in members
        if name not in SKIPPED
    )
    return {"talib": talib.__ta_version__.decode().split()[0], "functions": {
        name: describe(name) for name in names
    }}  # fmt: skip


HEADER = '''"""TA-Lib's description of its non-pattern functions (but MAVP): group, inputs,
parameters with default and valid range, outputs, under TA-Lib's own names.

Written by ``python -m tests.talib_functions`` from the installed TA-Lib; a unit test checks it.
"""

from typing import Any

'''


def render(data: dict[str, Any]) -> str:
    """The module's source (``ruff format`` lays it out)."""
    functions = pprint.pformat(data["functions"], sort_dicts=False, width=100)
    return f"{HEADER}TALIB_VERSION = {data['talib']!r}\nFUNCTIONS: dict[str, Any] = {functions}\n"


if __name__ == "__main__":
    with open(PATH, "w") as out:
        out.write(render(functions()))
