"""A source's job row against a PostgreSQL that restarts under it: the run goes on, and the
row ends with the final counts once the server is back."""

from __future__ import annotations

import asyncio
import logging

import pytest

from marketpulse.cli import main
from marketpulse.services.postgres_server import PostgreSQL
from marketpulse.settings import Settings
from marketpulse.storage.postgres import create_pool, migrate
from marketpulse.storage.repositories.jobs import JobRepository
from marketpulse.streams.sources.job_runs import job_run
from tests.sink_helpers import eventually

pytestmark = [pytest.mark.integration]


async def test_a_running_job_rides_out_a_postgresql_outage(
    own_postgres: PostgreSQL, caplog: pytest.LogCaptureFixture
) -> None:
    settings = own_postgres.settings
    await migrate(settings)
    caplog.set_level(logging.WARNING, "marketpulse.streams.sources.job_runs")

    async def skipped() -> int:
        return sum("counts not stored" in r.getMessage() for r in caplog.records)

    async with job_run(settings, ["AAPL"], "stream:test", flush_s=0.1) as run:
        run.tally.add("AAPL", records=10)
        await asyncio.to_thread(own_postgres.stop)
        await eventually(skipped, lambda n: n >= 2, what="flushes skipped while it is down")
        run.tally.add("AAPL", records=5)
        await asyncio.to_thread(own_postgres.ensure_up)
    pool = await create_pool(settings, max_size=1)
    try:
        jobs = JobRepository(pool)
        job = await jobs.get(run.job.job_id)
        results = await jobs.results(run.job.job_id)
    finally:
        await pool.close()
    assert job is not None
    assert job.status == "succeeded"
    assert [(r.symbol, r.records) for r in results] == [("AAPL", 15)]


def test_a_job_on_a_database_never_migrated_says_to_migrate(
    services: Settings,
    own_postgres: PostgreSQL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = services.model_copy(
        update={"postgres_port": own_postgres.settings.postgres_port, "topic_prefix": "nomigr."}
    )
    monkeypatch.setattr("marketpulse.cli.get_settings", lambda: settings)
    argv = ["source", "synthetic", "--symbols", "AAPL", "--events", "20", "--rate", "max"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "data_ingestion_jobs" in error
    assert "run `marketpulse migrate` first" in error
