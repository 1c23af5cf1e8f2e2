"""One indicator run over a series of stored bars: what the API computes when it is asked for
parameters the stream does not keep. The same classes as the stream, so the same values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marketpulse.analytics.indicators.base import Candle
from marketpulse.analytics.indicators.catalog import UnknownIndicator
from marketpulse.analytics.indicators.registry import build

ALIASES = {"bollinger": "bb", "bbands": "bb", "stochastic": "stoch", "williams": "willr"}


def spec_of(name: str, params: str | None) -> str:
    """The engine's spec for an indicator name and comma-separated parameters:
    ``("sma", "20")`` -> ``sma_20``, ``("bollinger", "20,2")`` -> ``bb_20_2``."""
    kind = ALIASES.get(name.lower(), name.lower())
    values = [p.strip() for p in params.split(",")] if params else []
    if any(not v for v in values):
        raise UnknownIndicator(f"empty parameter in {params!r}")
    return "_".join([kind, *values])


def request_of(spec: str) -> tuple[str, str | None]:
    """The name and parameters that ask the API for ``spec`` (``spec_of`` backwards):
    ``sma_20`` -> ``("sma", "20")``, ``vwap_session`` -> ``("vwap", "session")``."""
    kind, *values = spec.split("_")
    return kind, ",".join(values) or None


def compute(spec: str, bars: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each bar's outputs once defined: ``{"ts": start, output: value, ...}``."""
    indicator = build(spec)
    rows: list[dict[str, Any]] = []
    for bar in bars:
        indicator.update(
            Candle(bar["start"], bar["open"], bar["high"], bar["low"], bar["close"], bar["volume"])
        )
        out: dict[str, float] = {}
        indicator.write(out)
        if out:
            rows.append({"ts": bar["start"], **out})
    return rows
