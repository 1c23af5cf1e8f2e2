"""``/monitoring``: deep health, Prometheus metrics and ingestion jobs."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from marketpulse.api.deps import Caller, Public, SignedIn
from marketpulse.api.envelope import respond
from marketpulse.api.errors import not_found
from marketpulse.api.health import condition_tables, deep_checks, refresh_lag
from marketpulse.api.params import limit_param
from marketpulse.api.routers import NOT_FOUND, api_router
from marketpulse.schemas.api import Envelope
from marketpulse.storage.repositories.jobs import Job, JobRepository, JobStatus

router = api_router("/monitoring", "monitoring")
JobReader = Annotated[Caller, Depends(SignedIn("jobs:read"))]


@router.get(
    "/health",
    response_model=Envelope[dict[str, Any]],
    responses={503: {"description": "a dependency is down"}},
)
async def health(request: Request, stores: Public) -> Response:
    """The broker, InfluxDB, PostgreSQL, Redis and consumer lag; 503 when any is down. Beside
    them, each live source's trade-condition table and whether its last refresh failed. Open
    to all, for load balancers and orchestrators."""
    checks, conditions = await asyncio.gather(deep_checks(stores), condition_tables(stores))
    healthy = all(c["healthy"] for c in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks, "conditions": conditions}
    return respond(request, body, status_code=200 if healthy else 503)


@router.get("/live", response_model=Envelope[dict[str, str]])
async def live(request: Request, _: Public) -> Response:
    """The process serves requests; no dependency is asked. For liveness and readiness probes:
    the deep ``/health`` fails for every replica at once when a shared store is down."""
    return respond(request, {"status": "ok"})


@router.get(
    "/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}}
)
async def metrics(stores: Public) -> Response:
    """Every Prometheus metric of this process, in the text format, with the consumer groups'
    lag measured now."""
    await refresh_lag(stores)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/jobs", response_model=Envelope[list[Job]])
async def jobs(
    request: Request,
    caller: JobReader,
    status: JobStatus | None = None,
    limit: Annotated[int, limit_param(500)] = 50,
) -> Response:
    """Recent ingestion jobs, newest first."""
    return respond(request, await JobRepository(caller.stores.pool).recent(status, limit))


@router.get("/jobs/{job_id}", response_model=Envelope[dict[str, Any]], responses=NOT_FOUND)
async def job(request: Request, job_id: UUID, caller: JobReader) -> Response:
    """One job with its per-symbol results."""
    repository = JobRepository(caller.stores.pool)
    found = await repository.get(job_id)
    if found is None:
        raise not_found("job", job_id=str(job_id))
    return respond(request, {"job": found, "results": await repository.results(job_id)})
