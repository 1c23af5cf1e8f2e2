"""``/monitoring``: deep health of every dependency, and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from marketpulse.api.envelope import success
from marketpulse.services import stack
from marketpulse.settings import Settings

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Probe the broker, InfluxDB, PostgreSQL and Redis; 503 when any is down."""
    settings: Settings = request.app.state.settings
    statuses = await asyncio.to_thread(stack.status, settings)
    checks = {s.name: {"address": s.address, "healthy": s.healthy} for s in statuses}
    healthy = all(s.healthy for s in statuses)
    body = success({"status": "ok" if healthy else "degraded", "checks": checks})
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/metrics")
async def metrics() -> Response:
    """Every Prometheus metric of this process, in the text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
