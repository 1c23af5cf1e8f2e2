"""Which parts of a bar a trade may set, from its sale conditions.

Under the US consolidated tape's rules (the CTA and UTP plans) each sale condition says whether
a trade that carries it may set the last sale (a bar's open and close), the high and low, and
whether it counts in volume: an odd lot counts in volume but sets no price; an average-price,
cash or next-day trade sets no price either; an out-of-sequence or prior-reference trade may set
the high or low but not the open or close. A trade with several conditions updates a part only
when every one of them allows it. Vendors publish these rules per condition (Polygon: its
conditions reference, ``update_rules.consolidated``) and build their own bars by them.

A trade carries the outcome as the parts it updates (``Trade.updates``): ``None`` means every
part, which is what a trade from a source without rules gets. A code its source's table does
not know is reported and then has no say (the documented default: as if it were not there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

Part = Literal["open_close", "high_low", "volume"]

OPEN_CLOSE: Final = 1
HIGH_LOW: Final = 2
VOLUME: Final = 4
EVERY_PART: Final = 7

_BITS: Final[dict[str, int]] = {"open_close": OPEN_CLOSE, "high_low": HIGH_LOW, "volume": VOLUME}
_PARTS: Final[tuple[tuple[int, Part], ...]] = (
    (OPEN_CLOSE, "open_close"),
    (HIGH_LOW, "high_low"),
    (VOLUME, "volume"),
)


def mask_of(parts: Iterable[str] | None) -> int:
    """The bits of ``parts`` (``None``: every part)."""
    if parts is None:
        return EVERY_PART
    mask = 0
    for part in parts:
        mask |= _BITS[part]
    return mask


def parts_of(mask: int) -> list[Part] | None:
    """The parts in ``mask``, or ``None`` for every part (so that most trades carry nothing)."""
    if mask == EVERY_PART:
        return None
    return [part for bit, part in _PARTS if mask & bit]


@dataclass(frozen=True)
class ConditionTable:
    """One source's rules: for each condition code (as text, since vendors send numbers and
    files send text) the parts a trade carrying it may update."""

    source: str
    rules: dict[str, int]

    @property
    def version(self) -> str:
        """The table's content, hashed: two tables with the same rules have the same version,
        wherever and whenever they were fetched."""
        text = ";".join(f"{code}={mask}" for code, mask in sorted(self.rules.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def mask(self, conditions: Sequence[int | str]) -> tuple[int, list[str]]:
        """The parts a trade with ``conditions`` updates, and the codes the table does not
        know (which have no say)."""
        mask, unknown = EVERY_PART, []
        for code in conditions:
            rule = self.rules.get(str(code))
            if rule is None:
                unknown.append(str(code))
            else:
                mask &= rule
        return mask, unknown
