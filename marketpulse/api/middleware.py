"""The edge of every request, as plain ASGI (no per-request task or body copy):

* a request id (a sane ``X-Request-ID`` from the client, or a new one), echoed back;
* the ``API-Version`` header: absent or ``1`` is served, anything else is a 400;
* bodies over ``api_max_body_bytes`` get a 413, by ``Content-Length``, or for a chunked body
  by reading it whole before the app (whose parsers would answer 400); the limit also holds
  while a body streams;
* security headers (CSP, nosniff, frame options, referrer policy; HSTS over HTTPS), the rate
  limit headers the limiter left in the request state, ``no-store`` on auth responses;
* one access log line and latency metric per request. The query string is never logged: it can
  hold a WebSocket token (which ``RedactTokens`` masks in uvicorn's own lines too).
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketpulse import metrics
from marketpulse.api.envelope import API_VERSION, JSON, error_body

log = logging.getLogger("marketpulse.api.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TOKEN_IN_QUERY = re.compile(r"([?&](?:access_)?token=)[^&\s\"]+")
_ACCEPTED_VERSIONS = {"1", "v1", "1.0"}
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc load their scripts and styles from jsDelivr.
_DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
    b"worker-src blob:; frame-ancestors 'none'"
)
_DOCS = ("/docs", "/redoc", "/openapi.json")
# The dashboard loads only its own files and talks only to this origin (REST and WebSocket).
_DASHBOARD_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_STATIC_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"api-version", API_VERSION.encode()),
]


# Each label set's histogram, found once: ``labels()`` takes a lock and checks its arguments.
_LATENCIES: dict[tuple[str, str, str], Histogram] = {}


class _TooLarge(Exception):
    pass


def _replay(whole: Message, receive: Receive) -> Receive:
    """A receive that gives ``whole`` first, then what ``receive`` gives (a disconnect)."""
    pending = [whole]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class RedactTokens(logging.Filter):
    """Masks tokens in query strings: uvicorn logs a WebSocket's path whole, and the dashboard's
    socket (like any browser's) can only send its token there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def redact_tokens(logger: logging.Logger) -> None:
    """Install ``RedactTokens`` on ``logger`` once."""
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())


def _csp(path: str) -> bytes:
    if path.startswith(_DOCS):
        return _DOCS_CSP
    if path == "/dashboard" or path.startswith("/dashboard/"):
        return _DASHBOARD_CSP
    return _API_CSP


class EdgeMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.match(given) else os.urandom(16).hex()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status = [500]
        path: str = scope["path"]
        version = headers.get(b"api-version")
        if version is not None and version.decode("latin-1").strip() not in _ACCEPTED_VERSIONS:
            await self._reject(
                send, rid, 400, "UNSUPPORTED_API_VERSION", "only API version 1 is served"
            )
            self._log(scope, 400, started)
            return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await self._reject(send, rid, 413, "PAYLOAD_TOO_LARGE", self._too_large_text())
            self._log(scope, 413, started)
            return

        if length is None and b"transfer-encoding" in headers:
            # A body of unknown length is read whole first: the 413 must come before a route
            # parses it (FastAPI answers any failure while reading a JSON body with a 400).
            whole = await self._read_limited(receive)
            if whole is None:
                await self._reject(send, rid, 413, "PAYLOAD_TOO_LARGE", self._too_large_text())
                self._log(scope, 413, started)
                return
            receive = _replay(whole, receive)

        received = 0
        started_response = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def decorated_send(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
                status[0] = message["status"]
                extra = [(b"x-request-id", rid.encode()), *_STATIC_HEADERS]
                extra.append((b"content-security-policy", _csp(path)))
                if scope.get("scheme") == "https":
                    extra.append(
                        (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
                    )
                if "/auth/" in path:
                    extra.append((b"cache-control", b"no-store"))
                for name, value in state.get("rate_limit_headers", ()):
                    extra.append((name.encode(), value.encode()))
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        try:
            await self.app(scope, limited_receive, decorated_send)
        except _TooLarge:
            if started_response:
                raise
            await self._reject(send, rid, 413, "PAYLOAD_TOO_LARGE", self._too_large_text())
            status[0] = 413
        except Exception:
            # Here rather than in an exception handler: Starlette sends those 500s from its
            # outermost middleware, past this one, so they would lack the request id and headers.
            log.exception("unhandled error (request %s)", rid)
            if started_response:
                raise
            await self._reject(
                send, rid, 500, "INTERNAL_ERROR", "internal error", {"request_id": rid}
            )
            status[0] = 500
        finally:
            self._log(scope, status[0], started)

    async def _read_limited(self, receive: Receive) -> Message | None:
        """The request's whole body as one message, or None once it passes the limit (or the
        client leaves: there is nobody to answer)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    def _too_large_text(self) -> str:
        return f"request bodies are limited to {self.max_body} bytes"

    async def _reject(
        self,
        send: Send,
        rid: str,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        body = error_body(rid, code, message, details)
        headers = [
            (b"content-type", JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", rid.encode()),
            *_STATIC_HEADERS,
            (b"content-security-policy", _API_CSP),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _log(scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        labels = (scope["method"], getattr(route, "path", "unmatched"), str(status))
        latency = _LATENCIES.get(labels)
        if latency is None:  # few: methods x route templates x statuses
            latency = _LATENCIES[labels] = metrics.API_REQUESTS.labels(*labels)
        latency.observe(elapsed)
        if log.isEnabledFor(logging.INFO):
            state = scope.get("state", {})
            log.info(
                "%s %s %d %.1fms request=%s user=%s",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                state.get("request_id"),
                state.get("user_id", "-"),
            )
