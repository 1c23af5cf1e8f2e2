"""Decode a raw frame, or say precisely why it cannot be decoded."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from marketpulse.analytics.ticks import TickFrame, parse_frame, ticks_of
from marketpulse.schemas.events import Frame


@dataclass(frozen=True)
class Rejection:
    """Why some input was refused: a reason code and a human-readable detail."""

    reason: str
    detail: str


def decode_frame(payload: bytes | None) -> TickFrame | Rejection:
    """Parse and validate one ``market.raw`` message.

    The plain case is decoded by msgspec into typed ticks; anything else is validated by the
    schema, which coerces what it may and names what is wrong.
    """
    if not payload:
        return Rejection("malformed", "empty message")
    parsed = parse_frame(payload)
    if parsed is not None:
        return parsed
    try:
        return ticks_of(Frame.model_validate_json(payload))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        return Rejection("malformed", f"{where}: {first['msg']} ({exc.error_count()} errors)")
