"""The Faust app, wiring only: ``faust -A marketpulse.app worker`` and ``marketpulse worker``."""

from __future__ import annotations

import faust

from marketpulse.settings import Settings, get_settings
from marketpulse.streams import kafka_compat
from marketpulse.streams.topics import declare


def create_app(settings: Settings | None = None, *, discover_agents: bool = True) -> faust.App:
    """Build an app from the settings, with the Kafka adjustments installed first."""
    settings = settings or get_settings()
    kafka_compat.apply(
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms, tansu=settings.kafka_tansu_compat
    )
    session_timeout = settings.kafka_session_timeout_s
    return faust.App(
        settings.worker_id,
        broker=settings.kafka_broker,
        store="memory://",
        autodiscover=["marketpulse.agents"] if discover_agents else False,
        origin="marketpulse",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=min(3.0, session_timeout / 3),
        broker_request_timeout=max(90.0, session_timeout * 2),
        web_enabled=False,
        producer_linger=0.005,
    )


app = create_app()
topics = declare(app, get_settings().topic_partitions, get_settings().granularities)
