"""Build a Faust app from the settings, with the Kafka adjustments installed first."""

from __future__ import annotations

import faust

from marketpulse.settings import Settings
from marketpulse.streams import faust_recovery, kafka_compat


def create_app(settings: Settings) -> faust.App:
    """A worker app: memory stores restored from changelogs, at-least-once, no web server."""
    kafka_compat.apply(
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms, tansu=settings.kafka_tansu_compat
    )
    faust_recovery.apply()
    session_timeout = settings.kafka_session_timeout_s
    datadir = settings.data_dir / "faust" / settings.worker_id
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust makes only the last level
    return faust.App(
        settings.worker_id,
        broker=settings.kafka_broker,
        store="memory://",
        datadir=str(datadir),
        autodiscover=False,
        origin="marketpulse",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=min(3.0, session_timeout / 3),
        broker_request_timeout=max(90.0, session_timeout * 2),
        web_enabled=False,
        producer_linger=settings.kafka_producer_linger_ms / 1000,
        producer_max_batch_size=settings.kafka_producer_batch_bytes,
        producer_request_timeout=settings.kafka_producer_timeout_s,
        # what it sends of a record may exceed what it took by a frame's wrapper and a record's
        # overhead (dead letters are cut to fit the limit itself)
        producer_max_request_size=settings.kafka_max_message_bytes + (64 << 10),
    )
