"""Storage statistics and retention management, for the API's admin endpoints.

InfluxDB 1.x reports disk use per shard (TSM files plus WAL segments), and a shard belongs to
one retention policy, so bytes are exact per policy. It keeps no per-measurement sizes, so a
measurement's bytes are estimated as its share of its policy's points.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import asyncpg

from marketpulse.errors import MarketPulseError
from marketpulse.storage import measurements
from marketpulse.storage.influx import InfluxClient, identifier

# A field every point of the measurement has, so counting it counts points.
_ALWAYS_THERE = {
    measurements.QUOTES: "bid",
    measurements.BARS: "close",
    measurements.INDICATORS: "value",
    measurements.SIGNALS: "value",
}
_DURATION = re.compile(r"^(INF|[1-9][0-9]*[hdw])$")


class RetentionError(MarketPulseError):
    """An unknown policy, or a duration InfluxDB would not take."""


@dataclass(frozen=True)
class MeasurementStats:
    """Points of one measurement in one retention policy."""

    measurement: str
    retention_policy: str
    points: int
    estimated_bytes: int


@dataclass(frozen=True)
class PolicyInfo:
    """One retention policy and the disk its shards use."""

    name: str
    duration: str
    shard_group_duration: str
    default: bool
    bytes: int


@dataclass(frozen=True)
class TableStats:
    """One PostgreSQL table: planner's row estimate and total size with indexes."""

    table: str
    rows_estimate: int
    bytes: int


async def policy_bytes(client: InfluxClient) -> dict[str, int]:
    """Bytes on disk per retention policy of the client's database (TSM and WAL)."""
    used: dict[str, int] = defaultdict(int)
    for module, columns in (
        ("shard", ("diskBytes",)),
        ("tsm1_wal", ("currentSegmentDiskBytes", "oldSegmentsDiskBytes")),
    ):
        results = await client.query(f"SHOW STATS FOR '{module}'")
        for series in results[0].get("series", []):
            tags = series.get("tags", {})
            if tags.get("database") != client.database:
                continue
            row = dict(zip(series["columns"], series["values"][0], strict=True))
            used[tags["retentionPolicy"]] += sum(int(row.get(c) or 0) for c in columns)
    return dict(used)


async def retention_policies(client: InfluxClient) -> list[PolicyInfo]:
    """Every retention policy of the database, with its disk use."""
    used = await policy_bytes(client)
    rows = await client.rows(f"SHOW RETENTION POLICIES ON {identifier(client.database)}")
    return [
        PolicyInfo(
            name=row["name"],
            duration=row["duration"],
            shard_group_duration=row["shardGroupDuration"],
            default=bool(row["default"]),
            bytes=used.get(row["name"], 0),
        )
        for row in rows
    ]


async def set_retention(client: InfluxClient, name: str, duration: str) -> PolicyInfo:
    """Change how long a policy keeps data (``30d``, ``52w``, ``INF``); return it as it is now."""
    if not _DURATION.match(duration):
        raise RetentionError(f"duration {duration!r}: use a whole number of h, d or w, or INF")
    if name not in {p.name for p in await retention_policies(client)}:
        raise RetentionError(f"no retention policy {name!r} on {client.database}")
    await client.query(
        f"ALTER RETENTION POLICY {identifier(name)} ON {identifier(client.database)} "
        f"DURATION {duration}"
    )
    return next(p for p in await retention_policies(client) if p.name == name)


async def measurement_stats(client: InfluxClient) -> list[MeasurementStats]:
    """Points per measurement and policy, and their estimated share of the policy's bytes."""
    used = await policy_bytes(client)
    found: list[tuple[str, str, int]] = []
    for policy in await retention_policies(client):
        for measurement, field in _ALWAYS_THERE.items():
            source = f"{identifier(policy.name)}.{identifier(measurement)}"
            rows = await client.rows(f"SELECT count({identifier(field)}) FROM {source}")  # noqa: S608 - quoted identifiers
            if rows and rows[0]["count"]:
                found.append((measurement, policy.name, int(rows[0]["count"])))
    totals: dict[str, int] = defaultdict(int)
    for _m, policy_name, points in found:
        totals[policy_name] += points
    return [MeasurementStats(m, p, n, used.get(p, 0) * n // totals[p]) for m, p, n in found]


async def table_stats(pool: asyncpg.Pool) -> list[TableStats]:
    """Every table of the public schema, largest first."""
    rows = await pool.fetch(
        """SELECT c.relname AS table, greatest(c.reltuples, 0)::bigint AS rows_estimate,
                  pg_total_relation_size(c.oid) AS bytes
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r'
           ORDER BY bytes DESC, c.relname"""
    )
    return [TableStats(r["table"], r["rows_estimate"], r["bytes"]) for r in rows]
