"""Prometheus metrics, defined once and shared by agents, sinks and the API."""

from __future__ import annotations

import gc
from typing import Generic, TypeVar

from prometheus_client import Counter, Gauge, Histogram

OTHER = "other"

M = TypeVar("M", Counter, Gauge, Histogram)


class Children(Generic[M]):
    """A metric of one label, with each label value's child made on first use and kept.

    The metric's own ``labels()`` takes a lock and checks its arguments on every call (about
    3.5 µs here, against 0.8 for the child's ``inc``), and the worker counts every record it
    sends.
    """

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[str, M] = {}

    def __call__(self, value: str) -> M:
        """The child for ``value``."""
        child = self._children.get(value)
        if child is None:
            child = self._children[value] = self._metric.labels(value)
        return child


class BoundedLabel:
    """The values one label may take when they come from input (a frame's source, a symbol).

    Each label value is a series kept for the life of the process, so a feed must not be able
    to create them at will: the first ``limit`` distinct values get their own, later ones are
    counted under ``other``. The limit is a setting, sized to what the deployment trades.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        """``value`` itself while there is room for it, else ``other``."""
        seen = self._seen
        if value in seen:
            return value
        if len(seen) < self.limit:
            seen.add(value)
            return value
        return OTHER


EVENTS_IN = Counter(
    "marketpulse_events_in_total",
    "Events received on market.raw, by source (beyond the configured number: other)",
    ["source"],
)
DEADLETTERS = Counter(
    "marketpulse_deadletters_total", "Messages or events dead-lettered, by reason", ["reason"]
)
CONDITIONS_UNKNOWN = Counter(
    "marketpulse_conditions_unknown_total",
    "Trade condition codes not in their source's table (they update every part of the bar)",
    ["source"],
)
TRADES_INERT = Counter(
    "marketpulse_trades_inert_total",
    "Accepted trades whose conditions let them set no part of a bar (kept on market.clean)",
    ["source"],
)
BARS_UNOPENED = Counter(
    "marketpulse_bars_unopened_total",
    "Bars closed unpublished: none of their trades could set the open (odd lots only, say)",
)
BARS_OUT = Counter(
    "marketpulse_bars_total", "Bars closed and published, by granularity", ["granularity"]
)
BARS_REVISED = Counter(
    "marketpulse_bars_revised_total",
    "Bars published again with a higher revision (a late trade, a restated vendor bar)",
    ["granularity"],
)
TRADES_TOO_LATE = Counter(
    "marketpulse_trades_too_late_total",
    "Trades accepted for a granularity that allows their lateness and too late for another",
)
RESTATEMENTS_TOO_LATE = Counter(
    "marketpulse_restatements_too_late_total",
    "Restated ready-made bars whose coarser bar could not be revised (its granularity allows "
    "less lateness)",
)
SERIES_WARMED = Counter(
    "marketpulse_series_warmed_total",
    "Series warmed from history before their first live bar, by where the history came from",
    ["source"],
)
WARMUP_FAILURES = Counter(
    "marketpulse_warmup_failures_total",
    "Warm-ups that failed (the series started cold), by the history's source",
    ["source"],
)
SIGNALS_WITHDRAWN = Counter(
    "marketpulse_signals_withdrawn_total",
    "Signals withdrawn because a revised bar no longer fires them",
    ["kind"],
)
INDICATOR_SNAPSHOTS = Counter(
    "marketpulse_indicator_snapshots_total", "Indicator snapshots published", ["granularity"]
)
FORMING_SNAPSHOTS = Counter(
    "marketpulse_forming_snapshots_total",
    "Snapshots of bars still forming published on analytics.forming",
    ["granularity"],
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
API_REQUESTS = Histogram(
    "marketpulse_api_request_seconds",
    "API requests by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
API_RATE_LIMITED = Counter(
    "marketpulse_api_rate_limited_total", "Requests refused by a rate limit", ["scope"]
)
API_AUTH_FAILURES = Counter(
    "marketpulse_api_auth_failures_total", "Refused credentials, by reason", ["reason"]
)
API_CACHE = Counter(
    "marketpulse_api_cache_total",
    "Response cache lookups: hit or miss, via the route or straight by URL",
    ["result", "via"],
)
WS_CLIENTS = Gauge("marketpulse_ws_clients", "Open WebSocket clients")
WS_DROPPED = Counter(
    "marketpulse_ws_slow_closed_total", "WebSocket clients closed for falling behind"
)
VENDOR_REQUESTS = Counter(
    "marketpulse_vendor_requests_total",
    "Vendor requests by outcome: ok, retried, refused (4xx or an error body), failed",
    ["provider", "outcome"],
)
VENDOR_WS_REFUSED = Counter(
    "marketpulse_vendor_ws_refused_total",
    "Vendor WebSocket sessions refused or ended by a status message (max_connections, "
    "disconnected, auth_timeout, other)",
    ["provider", "status"],
)
VENDOR_DROPPED = Counter(
    "marketpulse_vendor_dropped_total",
    "Vendor records dropped as placeholders, not data (NewsAPI's [Removed] articles)",
    ["provider", "reason"],
)
VENDOR_LATENCY = Histogram(
    "marketpulse_vendor_request_seconds", "Vendor request latency", ["provider"]
)
VENDOR_QUOTA_LEFT = Gauge(
    "marketpulse_vendor_quota_left", "Requests left in our own quota", ["provider", "window"]
)
CONSUMER_LAG = Gauge(
    "marketpulse_consumer_lag",
    "Records a consumer group has yet to process, as of the last scrape or health check",
    ["group"],
)
LAST_EVENT = Gauge(
    "marketpulse_last_event_timestamp_seconds",
    "Event time of the newest event received for a symbol (a stale feed stops moving it); "
    "symbols beyond the configured number share other",
    ["symbol"],
)
STATE_RECORDS = Counter(
    "marketpulse_state_records_total",
    "State records written to table changelogs (each key's last state, once per commit)",
    ["table"],
)
STATE_UNFLUSHED = Counter(
    "marketpulse_state_unflushed_total",
    "States not written because the worker had lost its group membership (a newer owner "
    "replays their input)",
    ["table"],
)
STATE_RECOVERED = Counter(
    "marketpulse_state_recovered_records_total",
    "Changelog records a worker read back in bulk when their partitions were assigned",
    ["table"],
)
STATE_DISCARDED = Counter(
    "marketpulse_state_discarded_total",
    "Tables cleared because the broker lost their changelogs (a memory broker's restart)",
    ["table"],
)
SEND_FAILURES = Counter(
    "marketpulse_send_failures_total",
    "Records the worker's producer failed to deliver (the worker then stops without committing)",
)
GC_FROZEN = Gauge(
    "marketpulse_gc_frozen_objects",
    "Objects out of the garbage collector's sight (gc.freeze): what survived a worker's full "
    "collections, what the API made at its start; growing while the symbols do not is garbage "
    "kept for good",
)
GC_FROZEN.set_function(gc.get_freeze_count)
