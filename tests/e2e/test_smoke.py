"""A frame through the real broker and a real worker process."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka.structs import ConsumerRecord
from prometheus_client.parser import text_string_to_metric_families

from marketpulse.clock import SystemClock
from marketpulse.schemas.events import DeadLetter, Frame, Quote, Trade
from marketpulse.settings import Settings
from tests.kafka_helpers import consume_until, produce, unique
from tests.workers import WorkerProcess, free_port

pytestmark = [pytest.mark.e2e]


async def test_frame_flows_from_raw_to_clean_and_bad_input_is_dead_lettered(
    services: Settings, tmp_path: Path
) -> None:
    symbol = "SMOKE"
    key = symbol.encode()
    prefix = unique("smoke") + "."
    now = SystemClock().now_ns()
    frame = Frame(
        source="test",
        received_ts=now,
        events=[
            Quote(symbol=symbol, ts=now - 1_000_000, bid=10.0, ask=10.1),
            Trade(symbol=symbol, ts=now, price=10.05, size=100),
        ],
    )
    # one good event and one crossed quote: only the good one goes on to market.clean
    good = Quote(symbol=symbol, ts=now + 1_000_000, bid=10.0, ask=10.1)
    crossed = Quote(symbol=symbol, ts=now + 2_000_000, bid=10.2, ask=10.1)
    mixed = Frame(source="test", received_ts=now, events=[good, crossed])
    metrics_port = free_port()
    worker = WorkerProcess(
        ["-m", "marketpulse.cli", "worker"],
        {
            "MARKETPULSE_WORKER_ID": unique("smoke"),
            "MARKETPULSE_TOPIC_PREFIX": prefix,
            "MARKETPULSE_KAFKA_SESSION_TIMEOUT_S": "4",  # the broker holds a join for half of it
            "MARKETPULSE_WORKER_METRICS_PORT": str(metrics_port),
        },
        tmp_path / "worker.log",
    )
    try:
        worker.wait_for_log("[^Worker]: Ready")
        assert "+uvloop" in worker.log()  # Faust's banner names the event loop
        await produce(
            services,
            prefix + "market.raw",
            [
                (key, frame.model_dump_json().encode()),
                (key, b'{"source": "test", "events": 3'),
                (key, mixed.model_dump_json().encode()),
            ],
        )

        def ours(records: list[ConsumerRecord[bytes, bytes]]) -> list[ConsumerRecord[bytes, bytes]]:
            return [r for r in records if r.key == key]

        clean = ours(
            await consume_until(services, [prefix + "market.clean"], lambda rs: len(ours(rs)) >= 2)
        )
        assert [Frame.model_validate_json(r.value) for r in clean] == [
            frame,
            Frame(source="test", received_ts=now, events=[good]),
        ]

        dead = ours(
            await consume_until(
                services, [prefix + "market.deadletter"], lambda rs: len(ours(rs)) >= 2
            )
        )
        letters = [DeadLetter.model_validate_json(r.value) for r in dead]
        assert [(d.reason, d.topic, d.key) for d in letters] == [
            ("malformed", prefix + "market.raw", symbol),
            ("crossed_quote", prefix + "market.raw", symbol),
        ]
        assert letters[0].payload == '{"source": "test", "events": 3'
        assert orjson.loads(clean[0].value)["events"][1]["price"] == 10.05

        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(metrics)
            for s in family.samples
        }
        assert samples[("marketpulse_deadletters_total", (("reason", "malformed"),))] == 1
        assert samples[("marketpulse_events_in_total", (("source", "test"),))] == 4
    finally:
        worker.stop()
