"""`marketpulse up` (behind `make up`): services, worker, API and source, stopped by Ctrl-C."""

from __future__ import annotations

import collections
import signal
from pathlib import Path

import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from marketpulse.cli import DEFAULT_SYMBOLS
from marketpulse.clock import SystemClock
from marketpulse.schemas.bars import IndicatorSnapshot
from marketpulse.schemas.events import DeadLetter, Frame
from marketpulse.settings import Settings
from marketpulse.storage.cache import LatestReader
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.resp import PipelinedRedis
from tests.kafka_helpers import consume_until, read_to_end, unique
from tests.sink_helpers import eventually
from tests.workers import WorkerProcess, free_port

pytestmark = [pytest.mark.e2e]


async def test_up_runs_the_pipeline_with_its_default_source_until_interrupted(
    services: Settings, tmp_path: Path
) -> None:
    port = free_port()
    started_ns = SystemClock().now_ns()
    # a namespace of its own: the source's history then covers its three days in full
    settings = services.model_copy(update={"topic_prefix": unique("up") + "."})
    up = WorkerProcess(
        ["-m", "marketpulse.cli", "up"],
        {
            "MARKETPULSE_TOPIC_PREFIX": settings.topic_prefix,
            "MARKETPULSE_API_PORT": str(port),
            "MARKETPULSE_WORKER_ID": unique("up"),
            "MARKETPULSE_WORKER_METRICS_PORT": str(free_port()),
            "MARKETPULSE_SINK_METRICS_PORT": str(free_port()),
        },
        tmp_path / "up.log",
    )
    try:
        up.wait_for_log("marketpulse is running")
        screen = up.log()
        assert f"dashboard http://127.0.0.1:{port}/dashboard" in screen
        assert "sign in" in screen
        logs = services.data_dir / "logs"
        assert f"logs      {logs}/" in screen
        health = up.wait_for_url(f"http://127.0.0.1:{port}/api/v1/monitoring/health", 30)
        assert health.json()["data"]["status"] == "ok"
        async with httpx.AsyncClient(timeout=5) as client:
            docs = await client.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200
        assert "swagger-ui" in docs.text

        def fresh(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            return any(Frame.model_validate_json(r.value).received_ts > started_ns for r in records)

        # A frame the default source made during this run, passed on by this run's worker.
        await consume_until(settings, [settings.topic("market.clean")], fresh, timeout_s=90)

        # the source's history came first: every symbol's hourly bars with every default
        # indicator warm, three of them sharing a partition (AAPL, AMZN and GOOGL of four)
        def warm(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            snapshots = (IndicatorSnapshot.model_validate_json(r.value) for r in records)
            ready = {s.symbol for s in snapshots if s.granularity == "1h" and all(s.ready.values())}
            return ready == set(DEFAULT_SYMBOLS.split(","))

        await consume_until(settings, [settings.topic("analytics.indicators")], warm,
                            timeout_s=90)  # fmt: skip
        # ... and none of it late: each symbol's past kept within the grace period of the
        # partition's stream time, which the symbol before it moved
        dead = await read_to_end(settings, [settings.topic("market.deadletter")])
        reasons = [
            DeadLetter.model_validate_json(r.value).reason
            for r in dead[settings.topic("market.deadletter")]
        ]
        assert "late" not in reasons, collections.Counter(reasons)

        # ... and stored by this run's sinks: sampled quotes in InfluxDB, the latest in Redis.
        async with InfluxClient(services) as influx:
            await eventually(
                lambda: influx.rows(
                    'SELECT count("bid") FROM "quotes_30d"."market_quotes" WHERE time > $t',
                    {"t": started_ns},
                ),
                lambda rows: bool(rows) and rows[0]["count"] > 0,
                timeout_s=90,
                what="quotes of this run in InfluxDB",
            )
        cache = LatestReader(PipelinedRedis(services.redis_url))
        try:
            await eventually(
                lambda: cache.get("AAPL", "quote", "tick"),
                lambda quote: quote is not None and quote["ts"] > started_ns,
                timeout_s=90,  # the cache sink reads the history's frames first, as the others
                what="this run's latest AAPL quote in Redis",
            )
        finally:
            await cache.client.close()
        # the live line counts this run's events; the processes' own output went to their logs
        up.wait_for_log("events/s, ", timeout_s=60)
        assert "live: " in up.log()
        assert "faust" in (logs / "worker.log").read_text(errors="replace").lower()
        assert "Uvicorn running" in (logs / "api.log").read_text(errors="replace")
        assert "Uvicorn running" not in up.log()
    finally:
        assert up.stop(timeout_s=60, signum=signal.SIGINT) == 0, up.log()[-3000:]
    log = up.log()
    assert "stopped:" in log
    assert "exited with status" not in log
