"""``/storage``: store health, statistics and retention; changing retention needs admin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response

from marketpulse.api import accounts
from marketpulse.api.deps import Caller, SignedIn
from marketpulse.api.envelope import respond
from marketpulse.api.errors import ApiError
from marketpulse.api.health import storage_checks
from marketpulse.api.routers import NOT_FOUND, api_router
from marketpulse.schemas.api import Envelope, RetentionUpdate
from marketpulse.storage import stats

router = api_router("/storage", "storage")
Reader = Annotated[Caller, Depends(SignedIn("storage:read"))]
Writer = Annotated[Caller, Depends(SignedIn("storage:write"))]


@router.get("/health", response_model=Envelope[dict[str, Any]])
async def health(request: Request, caller: Reader) -> Response:
    """InfluxDB, PostgreSQL and Redis, each with its latency; 503 when one is down."""
    checks = await storage_checks(caller.stores)
    healthy = all(c["healthy"] for c in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    return respond(request, body, status_code=200 if healthy else 503)


@router.get("/stats", response_model=Envelope[dict[str, Any]])
async def storage_stats(request: Request, caller: Reader) -> Response:
    """Points and bytes per InfluxDB measurement and policy; PostgreSQL table sizes."""
    body = {
        "influxdb": {
            "database": caller.stores.influx.database,
            "measurements": await stats.measurement_stats(caller.stores.influx),
        },
        "postgres": {"tables": await stats.table_stats(caller.stores.pool)},
    }
    return respond(request, body)


@router.get("/retention", response_model=Envelope[list[dict[str, Any]]])
async def retention(request: Request, caller: Reader) -> Response:
    """Every retention policy: duration, shard group length, whether default, bytes used."""
    return respond(request, await stats.retention_policies(caller.stores.influx))


@router.put("/retention/{policy}", response_model=Envelope[dict[str, Any]], responses=NOT_FOUND)
async def set_retention(
    request: Request,
    policy: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")],
    body: RetentionUpdate,
    caller: Writer,
) -> Response:
    """Change how long a policy keeps data (admin; audited)."""
    try:
        changed = await stats.set_retention(caller.stores.influx, policy, body.duration)
    except stats.RetentionError as exc:
        raise ApiError(404 if "no retention policy" in str(exc) else 400, str(exc)) from exc
    await accounts.audit(
        caller.stores,
        request,
        "storage.retention",
        caller.claims.subject,
        policy,
        duration=body.duration,
    )
    return respond(request, changed)
