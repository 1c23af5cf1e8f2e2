"""How the API's route tables are made and put into the app.

Each module builds its :func:`api_router` with its full path under :data:`API_PREFIX`, and
:func:`mount` hands the app those routes as they are, rather than through ``include_router``.
FastAPI 0.165 keeps an included router as a node that, on every request, walks every route of
every router before it and walks the matching one twice (fastapi/fastapi#16159): with our eight
routers that is about 200 µs of a 700 µs quote. Flat, the app tests each route's regex once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from marketpulse.schemas.api import ErrorEnvelope

API_PREFIX = "/api/v1"
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in (
        (
            400,
            "an unsupported API-Version header, a body that does not parse, or a value the "
            "route cannot use (INVALID_RANGE, INVALID_SYMBOL, INVALID_GRANULARITY, ...)",
        ),
        (401, "missing, invalid or expired token"),
        (403, "the role does not allow it"),
        (413, "the body is over the size limit"),
        (422, "invalid parameters or body"),
        (
            429,
            "rate limit exceeded, or the account is locked after failed sign-ins; see Retry-After",
        ),
        (503, "a store is unavailable"),
    )
}  # every operation can answer these: the edge and the gates run before any route
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorEnvelope,
        "description": "no such symbol (UNKNOWN_SYMBOL, with "
        "suggestions), no data for it (NO_DATA), or no such resource",
    }
}
CONFLICT_DESCRIPTION = "the request conflicts with the current state"


def conflict(description: str = CONFLICT_DESCRIPTION) -> dict[int | str, dict[str, Any]]:
    """The documented 409 of a route that can refuse on the current state."""
    return {409: {"model": ErrorEnvelope, "description": description}}


def api_router(prefix: str, tag: str) -> APIRouter:
    """The route table of one part of the API, at ``/api/v1{prefix}``."""
    return APIRouter(prefix=API_PREFIX + prefix, tags=[tag], responses=ERROR_RESPONSES)


def mount(app: FastAPI, *routers: APIRouter) -> None:
    """Give ``app`` the routes of ``routers``, in order."""
    for router in routers:
        app.router.routes.extend(router.routes)
