"""Prometheus metrics, defined once and shared by agents, sinks and the API."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

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
SINK_RECORDS = Counter(
    "marketpulse_sink_records_total", "Kafka records a sink has stored and committed", ["sink"]
)
SINK_POINTS = Counter(
    "marketpulse_sink_points_total", "Points or rows a sink has written", ["sink"]
)
SINK_ERRORS = Counter(
    "marketpulse_sink_errors_total",
    "Sink failures: retriable (tried again), refused (dead-lettered), skipped (best effort), "
    "commit (records will be redelivered)",
    ["sink", "kind"],
)
SINK_CIRCUIT_OPEN = Gauge(
    "marketpulse_sink_circuit_open", "1 while a sink's circuit breaker is open", ["sink"]
)
SIGNALS_OUT = Counter("marketpulse_signals_total", "Signals published, by kind", ["kind"])
