"""What a rule reports when it fires, before it becomes a Signal record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["bullish", "bearish", "neutral"]


@dataclass(frozen=True)
class Fired:
    """A rule that fired: its name, direction, strength (0-100) and the values behind it."""

    name: str
    direction: Direction
    strength: float
    details: dict[str, float]
