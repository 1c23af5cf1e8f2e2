"""Every source run, backfill or streaming, as a row of ``data_ingestion_jobs``: running while it
runs, with per-symbol counts flushed now and then, and a final status when it ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from uuid import UUID

from marketpulse.settings import Settings
from marketpulse.storage.postgres import POSTGRES_ERRORS, create_pool
from marketpulse.storage.repositories.jobs import (
    BEAT_S,
    Job,
    JobRepository,
    JobResult,
    JobStatus,
)

log = logging.getLogger(__name__)
UNKNOWN = "*"  # the tally's name for what belongs to no one symbol


@dataclass
class _Count:
    records: int = 0
    errors: int = 0
    detail: str | None = None


@dataclass
class Tally:
    """Records and errors per symbol, and whether any symbol failed outright."""

    counts: dict[str, _Count] = field(default_factory=dict)
    failed: bool = False

    def add(self, symbol: str, records: int = 0, errors: int = 0) -> None:
        """Count records published and rows refused for ``symbol``."""
        count = self.counts.setdefault(symbol, _Count())
        count.records += records
        count.errors += errors

    def set_records(self, symbol: str, records: int) -> None:
        """Replace ``symbol``'s record count with a running total reported elsewhere."""
        self.counts.setdefault(symbol, _Count()).records = records

    def fail(self, symbol: str, detail: str, errors: int = 1) -> None:
        """``symbol`` could not be fetched at all; the job will end as failed."""
        self.add(symbol, errors=errors)
        self.counts[symbol].detail = detail[:1000]
        self.failed = True

    @property
    def records(self) -> int:
        """Records published over every symbol."""
        return sum(c.records for c in self.counts.values())

    @property
    def errors(self) -> int:
        """Errors over every symbol."""
        return sum(c.errors for c in self.counts.values())

    def results(self, job_id: UUID) -> list[JobResult]:
        """The per-symbol rows of ``job_results``."""
        return [
            JobResult(job_id=job_id, symbol=s, records=c.records, errors=c.errors, detail=c.detail)
            for s, c in sorted(self.counts.items())
        ]


@dataclass
class JobRun:
    """A run being recorded: its counts, and its row as last written."""

    job: Job
    tally: Tally = field(default_factory=Tally)


async def _status(jobs: JobRepository, job_id: UUID, status: JobStatus) -> Job:
    job = await jobs.set_status(job_id, status)
    if job is None:
        raise LookupError(f"ingestion job {job_id} vanished")
    return job


async def _flush(jobs: JobRepository, run: JobRun) -> None:
    results = run.tally.results(run.job.job_id)
    if results:
        await jobs.record_results(results)
    await jobs.beat(run.job.job_id)


async def _flush_forever(jobs: JobRepository, run: JobRun, period_s: float) -> None:
    """Store the counts every period; a PostgreSQL outage skips flushes, not the run (the
    counts are running totals, so the next flush catches up)."""
    while True:
        await asyncio.sleep(period_s)  # a reporting period, not synchronisation
        try:
            await _flush(jobs, run)
        except POSTGRES_ERRORS as exc:
            log.warning("job %s: counts not stored this time: %s", run.job.job_id, exc)


async def _finish(jobs: JobRepository, run: JobRun, status: JobStatus) -> None:
    await _flush(jobs, run)
    run.job = await _status(jobs, run.job.job_id, status)


@contextlib.asynccontextmanager
async def job_run(
    settings: Settings, symbols: list[str], data_type: str, flush_s: float = BEAT_S
) -> AsyncIterator[JobRun]:
    """``async with job_run(settings, symbols, "bars:1d") as run:`` records the run as a job.

    The job is running inside the block, its per-symbol counts stored every ``flush_s``.
    Leaving the block stores the final counts and the status: cancelled on cancellation
    (Ctrl-C), failed on an exception or a failed symbol, else succeeded.
    """
    pool = await create_pool(settings, max_size=1)
    try:
        jobs = JobRepository(pool)
        created = await jobs.create(symbols, data_type)
        run = JobRun(await _status(jobs, created.job_id, "running"))
        flusher = asyncio.create_task(_flush_forever(jobs, run, flush_s))
        status: JobStatus = "succeeded"
        try:
            yield run
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        except Exception as exc:
            run.tally.fail(UNKNOWN, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            if status == "succeeded" and run.tally.failed:
                status = "failed"
            await asyncio.shield(_finish(jobs, run, status))
    finally:
        await pool.close()
