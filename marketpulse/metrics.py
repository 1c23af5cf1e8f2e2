"""Prometheus metrics, defined once and shared by agents, sinks and the API."""

from __future__ import annotations

from prometheus_client import Counter

EVENTS_IN = Counter(
    "marketpulse_events_in_total", "Events received on market.raw, by source", ["source"]
)
DEADLETTERS = Counter(
    "marketpulse_deadletters_total", "Messages or events dead-lettered, by reason", ["reason"]
)
BARS_OUT = Counter(
    "marketpulse_bars_total", "Bars closed and published, by granularity", ["granularity"]
)
INDICATOR_SNAPSHOTS = Counter(
    "marketpulse_indicator_snapshots_total", "Indicator snapshots published", ["granularity"]
)
REDELIVERED = Counter(
    "marketpulse_redelivered_total",
    "Messages skipped because their effect was already in the agent's state (at-least-once)",
    ["agent"],
)
