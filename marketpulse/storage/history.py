"""Reading back what the sinks stored in InfluxDB: bars, indicator values, the last quote.

User input reaches InfluxQL only as bound parameters; the retention policy and measurement
names are our constants and the row limit an int.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marketpulse.analytics.sessions import cut_for
from marketpulse.storage import measurements
from marketpulse.storage.influx import RETENTION, InfluxClient, identifier

BAR_FIELDS = (
    "open", "high", "low", "close", "volume", "vwap", "trades", "revision", "end", "session",
)  # fmt: skip
_BAR_COLUMNS = ", ".join(identifier(name) for name in BAR_FIELDS)  # END is an InfluxQL keyword
QUOTE_FIELDS = ("bid", "ask", "bid_size", "ask_size", "quote_ts")


def _source(policy: str, measurement: str) -> str:
    return f"{identifier(policy)}.{identifier(measurement)}"


def _range(start: int | None, end: int | None) -> str:
    clauses = []
    if start is not None:
        clauses.append(" AND time >= $start")
    if end is not None:
        clauses.append(" AND time < $end")
    return "".join(clauses)


async def bars(
    client: InfluxClient,
    symbol: str,
    granularity: str,
    start: int | None = None,
    end: int | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The newest ``limit`` bars in ``[start, end)``, oldest first, each with its ``start``."""
    source = _source(measurements.bar_retention(granularity), measurements.BARS)
    text = (
        f"SELECT {_BAR_COLUMNS} FROM {source} "
        f"WHERE symbol = $symbol AND granularity = $granularity{_range(start, end)} "
        f"ORDER BY time DESC LIMIT {int(limit)}"
    )
    params = {"symbol": symbol, "granularity": granularity, "start": start, "end": end}
    rows = await client.rows(text, {k: v for k, v in params.items() if v is not None})
    cut = cut_for(granularity, None)  # the end of a bar on UTC boundaries, not stored
    out = []
    for row in reversed(rows):
        bar = {"symbol": symbol, "granularity": granularity, "start": row["time"]}
        bar.update({name: row.get(name) for name in BAR_FIELDS})
        if bar["end"] is None and (bounds := cut.bounds(row["time"])) is not None:
            bar["end"] = bounds[1]
        out.append(bar)
    return out


async def indicator_values(
    client: InfluxClient,
    symbol: str,
    granularity: str,
    outputs: Sequence[str],
    start: int | None = None,
    end: int | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Stored values of ``outputs`` per bar start, oldest first: ``{"ts": .., name: value}``."""
    names = " OR ".join(f"indicator = $o{i}" for i in range(len(outputs)))
    source = _source(RETENTION["indicators"].name, measurements.INDICATORS)
    text = (
        f"SELECT value FROM {source} WHERE symbol = $symbol AND granularity = $granularity "
        f"AND ({names}){_range(start, end)} GROUP BY indicator "
        f"ORDER BY time DESC LIMIT {int(limit)}"
    )
    params: dict[str, Any] = {"symbol": symbol, "granularity": granularity}
    params.update({f"o{i}": name for i, name in enumerate(outputs)})
    params.update({k: v for k, v in (("start", start), ("end", end)) if v is not None})
    by_time: dict[int, dict[str, Any]] = {}
    for row in await client.rows(text, params):
        by_time.setdefault(row["time"], {"ts": row["time"]})[row["indicator"]] = row["value"]
    return [by_time[ts] for ts in sorted(by_time)][-limit:]


async def last_quote(client: InfluxClient, symbol: str) -> dict[str, Any] | None:
    """The newest stored quote of a symbol, or None."""
    source = _source(RETENTION["quotes"].name, measurements.QUOTES)
    text = (
        f"SELECT {', '.join(QUOTE_FIELDS)}, source FROM {source} WHERE symbol = $symbol "
        "ORDER BY time DESC LIMIT 1"
    )
    rows = await client.rows(text, {"symbol": symbol})
    if not rows:
        return None
    row = rows[0]
    return {
        "symbol": symbol,
        # sampled quotes are stamped at their interval and keep their own time in quote_ts
        "ts": row.get("quote_ts") or row["time"],
        "bid": row["bid"],
        "ask": row["ask"],
        "bid_size": row["bid_size"],
        "ask_size": row["ask_size"],
        "source": row.get("source") or "",
    }
