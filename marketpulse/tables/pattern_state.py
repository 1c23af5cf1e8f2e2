"""What the pattern agent keeps per (symbol, granularity)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from marketpulse.analytics.patterns.detector import DetectorConfig, SignalDetector


@dataclass
class PatternState:
    """The detectors, the last bar start applied and the last indicators-topic offset applied."""

    detector: SignalDetector
    last_start: int | None = None
    offset: int = -1

    def to_bytes(self) -> bytes:
        """Encode for the table."""
        return orjson.dumps(
            {
                "detector": self.detector.state(),
                "last_start": self.last_start,
                "offset": self.offset,
            }
        )

    @classmethod
    def from_bytes(cls, config: DetectorConfig, data: bytes) -> PatternState:
        """Decode from the table."""
        raw = orjson.loads(data)
        detector = SignalDetector.from_state(config, raw["detector"])
        return cls(detector, raw["last_start"], raw["offset"])
