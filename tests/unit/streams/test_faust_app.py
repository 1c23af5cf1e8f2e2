"""The worker's Faust app as the settings make it."""

from __future__ import annotations

from marketpulse.settings import Settings
from marketpulse.streams.faust_app import create_app


def test_the_worker_producer_lingers_as_set_to_fill_its_batches() -> None:
    app = create_app(Settings(kafka_producer_linger_ms=7, worker_id="linger-test"))
    assert app.conf.producer_linger == 0.007
    assert create_app(Settings(worker_id="linger-default")).conf.producer_linger == 0.005
