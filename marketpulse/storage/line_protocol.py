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
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from marketpulse.errors import MarketPulseError

FieldValue = float | int | bool | str
K = TypeVar("K")


class LineProtocolError(MarketPulseError):
    """A point that line protocol cannot carry."""


_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ ", "\n": "\\n"})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": "\\n"})


class Point(NamedTuple):
    """One point: its identity is measurement, tags and timestamp (a rewrite replaces it).

    A named tuple, not a dataclass: sinks make hundreds of thousands a second.
    """

    measurement: str
    fields: Mapping[str, FieldValue]
    tags: Mapping[str, str] = MappingProxyType({})
    ts: int | None = None  # ns since the epoch, UTC


# Escaped series heads and field keys, cached: a stream repeats the same few thousand series,
# and escaping each name of each point would be most of the encoding time.
_CACHE_LIMIT = 100_000
_heads: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
_field_keys: dict[str, str] = {}


def _no_backslash(measurement: str, name: str) -> None:
    if "\\" in name:
        raise LineProtocolError(f"point {measurement!r}: names cannot hold a backslash")


def _build_head(measurement: str, tags: Mapping[str, str]) -> str:
    _no_backslash(measurement, measurement)
    head = measurement.translate(_MEASUREMENT)
    for key in sorted(tags):  # sorted tags are what InfluxDB prefers
        value = tags[key]
        if not key or not value:
            raise LineProtocolError(f"tag {key!r}={value!r}: empty tag keys and values are dropped")
        _no_backslash(measurement, key)
        _no_backslash(measurement, value)
        head += f",{key.translate(_KEY)}={value.translate(_KEY)}"
    return head


def remember(cache: dict[K, str], key: K, value: str) -> str:
    """Store ``value`` in an escaping cache (emptied when full, as streams drift); return it."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def series_head(measurement: str, tags: Mapping[str, str]) -> str:
    """``measurement,tag=value,...``, escaped and checked, tags sorted (cached)."""
    key = (measurement, tuple(tags.items()))
    return _heads.get(key) or remember(_heads, key, _build_head(measurement, tags))


def _cached_field_key(measurement: str, name: str) -> str:
    _no_backslash(measurement, name)
    return remember(_field_keys, name, name.translate(_KEY))


def _field_value(name: str, value: FieldValue) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LineProtocolError(f"field {name!r} is {value}: line protocol has no NaN or inf")
        return repr(float(value))  # a float subclass (numpy's float64) would repr as itself
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if not isinstance(value, str):
        kind = type(value).__name__
        raise LineProtocolError(f"field {name!r} is a {kind}: line protocol takes numbers and text")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def encode(point: Point) -> str:
    """One point as a line (without the newline). The hot path of every sink: keep it lean."""
    measurement = point.measurement
    if not measurement or not point.fields:
        raise LineProtocolError(f"point {measurement!r} needs a measurement and a field")
    head = series_head(measurement, point.tags)
    fields = []
    for name, value in point.fields.items():
        escaped = _field_keys.get(name) or _cached_field_key(measurement, name)
        fields.append(f"{escaped}={field_value(name, value)}")
    if point.ts is None:
        return f"{head} {','.join(fields)}"
    return f"{head} {','.join(fields)} {point.ts}"


def field_value(name: str, value: FieldValue) -> str:
    """One field value as line protocol writes it."""
    if type(value) is float and value - value == 0.0:  # the common case, finite floats
        return repr(value)
    return _field_value(name, value)
