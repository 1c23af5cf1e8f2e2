"""What a benchmark hands to ``bench/report.py``: one ``RESULT {json}`` line per figure, after
its human-readable output."""

from __future__ import annotations

import json


def emit(
    name: str,
    value: float,
    unit: str,
    target: float | None = None,
    *,
    lower_is_better: bool = False,
    baseline: str | None = None,
) -> None:
    """Print one figure; ``baseline`` names the raw-client figure of the same run it is
    compared with (a ratio in the report)."""
    fields = {
        "name": name,
        "value": value,
        "unit": unit,
        "target": target,
        "lower_is_better": lower_is_better,
        "baseline": baseline,
    }
    print("RESULT " + json.dumps(fields), flush=True)
