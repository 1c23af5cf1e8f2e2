"""Every error becomes ``{error{code, message, details}, metadata}`` with a fitting status.

Validation errors never echo the offending input back (it may be a password); store outages are
503 with Retry-After. Anything unexpected becomes a 500 in the edge middleware (see there).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException

from marketpulse.api.envelope import JSON, error_body, request_id
from marketpulse.api.security import AuthError
from marketpulse.errors import StoreError

log = logging.getLogger(__name__)

CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """An error answered as it is: status, code, message, details and extra headers."""

    def __init__(
        self,
        status_code: int,
        message: str,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code or CODES.get(status_code, "ERROR")
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


def not_found(what: str, **details: Any) -> ApiError:
    """A 404 for a named thing."""
    return ApiError(404, f"{what} not found", details=details)


def error_response(request: Request, error: ApiError) -> Response:
    """The response for an :class:`ApiError`."""
    body = error_body(request_id(request), error.code, error.message, error.details)
    return Response(body, status_code=error.status_code, media_type=JSON, headers=error.headers)


Handler = Callable[[Request, Exception], Awaitable[Response]]


def handler_for(app: Starlette, exc: Exception) -> Handler | None:
    """The handler ``app`` has for ``exc``: for its class or the nearest base, as Starlette
    looks it up (for answers given in front of the app's own exception middleware)."""
    for cls in type(exc).__mro__:
        if cls in app.exception_handlers:
            return cast(Handler, app.exception_handlers[cls])
    return None


# Starlette calls each handler only with the exception class it was registered for.
async def _api_error(request: Request, exc: ApiError) -> Response:
    return error_response(request, exc)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    message = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "error")
    error = ApiError(exc.status_code, message, headers=exc.headers)
    return error_response(request, error)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return error_response(
        request, ApiError(422, "the request is not valid", details={"errors": problems})
    )


async def _auth_error(request: Request, exc: Exception) -> Response:
    error = ApiError(401, str(exc), headers={"WWW-Authenticate": "Bearer"})
    return error_response(request, error)


async def _unstorable_text(request: Request, exc: Exception) -> Response:
    error = ApiError(400, "the request holds characters that cannot be stored (such as NUL)")
    return error_response(request, error)


async def _store_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, StoreError) and not exc.retriable:
        # a store refused our query: that is our bug, not an outage
        log.error("store refused a request (request %s): %s", request_id(request), exc)
        error = ApiError(500, "internal error", details={"request_id": request_id(request)})
        return error_response(request, error)
    log.warning("store unavailable (request %s): %s", request_id(request), exc)
    error = ApiError(503, "a data store is unavailable; try again", headers={"Retry-After": "5"})
    return error_response(request, error)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(AuthError, _auth_error)
    for unstorable in (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError):
        app.add_exception_handler(unstorable, _unstorable_text)
    for unavailable in (
        StoreError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        RedisConnectionError,
        RedisTimeoutError,
        ConnectionError,
        TimeoutError,
    ):
        app.add_exception_handler(unavailable, _store_error)
