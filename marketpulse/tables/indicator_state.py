"""What the indicator agent keeps per (symbol, granularity)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from marketpulse.analytics.indicators import IndicatorSet


@dataclass
class IndicatorState:
    """The indicator set, the last bar start applied, and the last bars-topic offset applied."""

    indicators: IndicatorSet
    last_start: int | None = None
    offset: int = -1

    @classmethod
    def new(cls, specs: Iterable[str]) -> IndicatorState:
        """A state for a series seen for the first time."""
        return cls(IndicatorSet(specs))

    def to_bytes(self) -> bytes:
        """Encode for the table."""
        return orjson.dumps(
            {"set": self.indicators.state(), "last_start": self.last_start, "offset": self.offset}
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> IndicatorState:
        """Decode from the table."""
        raw = orjson.loads(data)
        return cls(IndicatorSet.from_state(raw["set"]), raw["last_start"], raw["offset"])
