"""The worker's Faust app as the settings make it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from marketpulse.settings import Settings
from marketpulse.streams.faust_app import create_app


def test_the_worker_producer_lingers_as_set_to_fill_its_batches() -> None:
    app = create_app(Settings(kafka_producer_linger_ms=7, worker_id="linger-test"))
    assert app.conf.producer_linger == 0.007
    assert create_app(Settings(worker_id="linger-default")).conf.producer_linger == 0.005


def test_the_worker_producer_builds_batches_up_to_the_largest_record_by_default() -> None:
    app = create_app(Settings(worker_id="batch-default"))
    assert app.conf.producer_max_batch_size == Settings().kafka_max_message_bytes == 1 << 20
    set_ = Settings(kafka_producer_batch_bytes=64 << 10, worker_id="batch-set")
    assert create_app(set_).conf.producer_max_batch_size == 64 << 10


def test_a_batch_larger_than_the_broker_takes_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="BATCH_BYTES \\(2,097,152\\) is over"):
        Settings(kafka_producer_batch_bytes=2 << 20)
    assert Settings(kafka_producer_batch_bytes=2 << 20, kafka_max_message_bytes=2 << 20)
