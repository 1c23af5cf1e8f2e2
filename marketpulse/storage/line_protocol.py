"""InfluxDB line protocol, escaped exactly as its specification says.

    measurement[,tag=value...] field=value[,field=value...] [timestamp]

Measurements escape commas and spaces; tag keys, tag values and field keys escape commas,
equals signs and spaces; string field values are double-quoted with ``"`` and ``\\`` escaped.
Integers carry an ``i`` suffix; floats must be finite (the protocol has no NaN or infinity).
A backslash in a name is refused: before a special character InfluxDB 1.x reads it as an
escape, so such names cannot round-trip; in string field values it is escaped and round-trips.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from marketpulse.errors import MarketPulseError

FieldValue = float | int | bool | str


class LineProtocolError(MarketPulseError):
    """A point that line protocol cannot carry."""


_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ ", "\n": "\\n"})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": "\\n"})


@dataclass(frozen=True)
class Point:
    """One point: its identity is measurement, tags and timestamp (a rewrite replaces it)."""

    measurement: str
    fields: Mapping[str, FieldValue]
    tags: Mapping[str, str] = field(default_factory=dict)
    ts: int | None = None  # ns since the epoch, UTC


def _field_value(name: str, value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LineProtocolError(f"field {name!r} is {value}: line protocol has no NaN or inf")
        return repr(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def encode(point: Point) -> str:
    """One point as a line (without the newline)."""
    if not point.measurement:
        raise LineProtocolError("a point needs a measurement")
    if not point.fields:
        raise LineProtocolError(f"point {point.measurement!r} has no fields")
    names = [point.measurement, *point.tags, *point.tags.values(), *point.fields]
    if any("\\" in name for name in names):
        raise LineProtocolError(f"point {point.measurement!r}: names cannot hold a backslash")
    head = point.measurement.translate(_MEASUREMENT)
    for key in sorted(point.tags):  # sorted tags are what InfluxDB prefers
        value = point.tags[key]
        if not key or not value:
            raise LineProtocolError(f"tag {key!r}={value!r}: empty tag keys and values are dropped")
        head += f",{key.translate(_KEY)}={value.translate(_KEY)}"
    fields = ",".join(
        f"{key.translate(_KEY)}={_field_value(key, value)}" for key, value in point.fields.items()
    )
    line = f"{head} {fields}"
    return line if point.ts is None else f"{line} {point.ts}"


def encode_batch(points: list[Point]) -> bytes:
    """Points as a /write request body."""
    return ("\n".join(encode(p) for p in points) + "\n").encode()
