"""Prometheus metrics, defined once and shared by agents, sinks and the API."""

from __future__ import annotations

from prometheus_client import Counter

EVENTS_IN = Counter(
    "marketpulse_events_in_total", "Events received on market.raw, by source", ["source"]
)
DEADLETTERS = Counter(
    "marketpulse_deadletters_total", "Messages or events dead-lettered, by reason", ["reason"]
)
