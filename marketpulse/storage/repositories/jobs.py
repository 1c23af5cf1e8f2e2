"""Ingestion jobs (a replay, a vendor backfill) and their per-symbol results."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict

from marketpulse.storage.bulk import copy_upsert

JobStatus = Literal["pending", "running", "succeeded", "failed", "cancelled"]
_COLUMNS = (
    "job_id, symbols, data_type, status, started_at, completed_at, records_processed, errors_count"
)
STREAMING = "stream:"  # the data_type prefix of a source that runs until stopped
BEAT_S = 5.0  # how often a running job stores its counts and stamps itself as seen
LIVE_WITHIN_S = 6 * BEAT_S  # a running job not seen for this long has died unannounced
_RESULT_COLUMNS = ("job_id", "symbol", "records", "errors", "detail")


class Job(BaseModel):
    """One row of ``data_ingestion_jobs``."""

    model_config = ConfigDict(frozen=True)

    job_id: UUID
    symbols: list[str]
    data_type: str
    status: JobStatus
    started_at: datetime | None
    completed_at: datetime | None
    records_processed: int
    errors_count: int


class JobResult(BaseModel):
    """One symbol's outcome within a job."""

    model_config = ConfigDict(frozen=True)

    job_id: UUID
    symbol: str
    records: int
    errors: int
    detail: str | None = None


class JobRepository:
    """``data_ingestion_jobs`` and ``job_results``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, symbols: list[str], data_type: str) -> Job:
        """Record a pending job."""
        row = await self.pool.fetchrow(
            f"""INSERT INTO data_ingestion_jobs (symbols, data_type, status)
                VALUES ($1, $2, 'pending') RETURNING {_COLUMNS}""",
            symbols,
            data_type,
        )
        return Job.model_validate(dict(row))

    async def set_status(self, job_id: UUID, status: JobStatus) -> Job | None:
        """Move a job on; running stamps started_at, the final states stamp completed_at."""
        row = await self.pool.fetchrow(
            f"""UPDATE data_ingestion_jobs SET status = $2::text,
                    started_at = CASE WHEN $2::text = 'running' THEN now() ELSE started_at END,
                    seen_at = now(),
                    completed_at = CASE WHEN $2::text IN ('succeeded', 'failed', 'cancelled')
                                        THEN now() ELSE completed_at END
                WHERE job_id = $1 RETURNING {_COLUMNS}""",
            job_id,
            status,
        )
        return None if row is None else Job.model_validate(dict(row))

    async def record_results(self, results: list[JobResult]) -> None:
        """Store per-symbol results (replacing earlier ones) and total them on their jobs."""
        rows = [(r.job_id, r.symbol, r.records, r.errors, r.detail) for r in results]
        async with self.pool.acquire() as connection, connection.transaction():
            await copy_upsert(
                connection, "job_results", _RESULT_COLUMNS, ("job_id", "symbol"), rows
            )
            await connection.execute(
                """UPDATE data_ingestion_jobs j
                   SET records_processed = t.records, errors_count = t.errors
                   FROM (SELECT job_id, sum(records) AS records, sum(errors) AS errors
                         FROM job_results WHERE job_id = ANY($1::uuid[]) GROUP BY job_id) t
                   WHERE j.job_id = t.job_id""",
                list({r.job_id for r in results}),
            )

    async def beat(self, job_id: UUID) -> None:
        """Stamp a running job as seen now (its runner is alive)."""
        await self.pool.execute(
            "UPDATE data_ingestion_jobs SET seen_at = now() WHERE job_id = $1", job_id
        )

    async def live_streams(self, seen_within_s: float) -> list[Job]:
        """The streaming jobs still running and seen within the last ``seen_within_s`` seconds,
        the newest first: the sources publishing now."""
        rows = await self.pool.fetch(
            f"""SELECT {_COLUMNS} FROM data_ingestion_jobs
                WHERE status = 'running' AND starts_with(data_type, $1)
                  AND seen_at > now() - make_interval(secs => $2)
                ORDER BY started_at DESC""",
            STREAMING,
            seen_within_s,
        )
        return [Job.model_validate(dict(row)) for row in rows]

    async def get(self, job_id: UUID) -> Job | None:
        """One job, or None."""
        row = await self.pool.fetchrow(
            f"SELECT {_COLUMNS} FROM data_ingestion_jobs WHERE job_id = $1", job_id
        )
        return None if row is None else Job.model_validate(dict(row))

    async def results(self, job_id: UUID) -> list[JobResult]:
        """A job's per-symbol results, by symbol."""
        rows = await self.pool.fetch(
            f"SELECT {', '.join(_RESULT_COLUMNS)} FROM job_results WHERE job_id = $1 "
            "ORDER BY symbol",
            job_id,
        )
        return [JobResult.model_validate(dict(row)) for row in rows]

    async def recent(self, status: JobStatus | None = None, limit: int = 50) -> list[Job]:
        """The newest jobs first, optionally of one status."""
        rows = await self.pool.fetch(
            f"""SELECT {_COLUMNS} FROM data_ingestion_jobs
                WHERE ($1::text IS NULL OR status = $1)
                ORDER BY coalesce(started_at, completed_at) DESC NULLS FIRST LIMIT $2""",
            status,
            limit,
        )
        return [Job.model_validate(dict(row)) for row in rows]
