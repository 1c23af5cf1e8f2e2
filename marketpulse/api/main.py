"""The FastAPI application: routers under ``/api/v1``, the edge middleware, error handlers,
and the shared clients opened and closed with the app."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

import uvicorn.config
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from marketpulse import __version__
from marketpulse.api import dashboard, errors
from marketpulse.api.caching import CachedByUrl
from marketpulse.api.deps import Stores
from marketpulse.api.health import finish_lag_measurement
from marketpulse.api.http_protocol import HTTP_TIMEOUTS, HttpProtocol
from marketpulse.api.live import Hub, feed
from marketpulse.api.lockout import Lockout
from marketpulse.api.middleware import EdgeMiddleware, redact_tokens
from marketpulse.api.ratelimit import RateLimiter
from marketpulse.api.routers import mount
from marketpulse.api.routes import (
    auth,
    indicators,
    market_data,
    monitoring,
    security,
    signals,
    storage,
    stream,
    watchlist,
)
from marketpulse.api.sockets import Sockets, watch
from marketpulse.settings import Settings, get_settings
from marketpulse.storage import cache, postgres
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.resp import PipelinedRedis

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_STOP_WAIT_S = 5.0
log = logging.getLogger(__name__)
_EXPOSED = [
    "X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
    "Retry-After", "API-Version",
]  # fmt: skip
DESCRIPTION = """Market data, indicators and signals from the marketpulse pipeline.

* Sign in at `/api/v1/auth/login` and send `Authorization: Bearer <access token>`.
* Every success is `{data, metadata}`; every error is `{error{code, message, details}, metadata}`.
* Rate limits: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`; 429 with
  `Retry-After`.
* Versions: the path (`/api/v1`) and the optional `API-Version: 1` request header.
"""


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    settings: Settings = app.state.settings
    pool = await postgres.create_pool(settings, max_size=20)
    redis = cache.connect(settings.redis_url)
    per_request = PipelinedRedis(settings.redis_url)
    influx = InfluxClient(settings)
    app.state.stores = Stores(
        settings=settings,
        pool=pool,
        redis=redis,
        influx=influx,
        latest=cache.LatestReader(per_request),
        responses=cache.ResponseCache(per_request),
        limiter=RateLimiter(per_request, settings.api_rate_window_s),
        lockout=Lockout(
            redis,
            settings.api_login_lock_failures,
            settings.api_login_lock_window_s,
            settings.api_login_lock_s,
        ),
    )
    app.state.hub = Hub()
    app.state.feed_ready = asyncio.Event()
    stopping = asyncio.Event()
    feeder = asyncio.create_task(feed(settings, app.state.hub, app.state.feed_ready, stopping))
    app.state.sockets = Sockets(settings.ws_max_per_user, settings.ws_max_per_address)
    watcher = asyncio.create_task(
        watch(app.state.stores, app.state.sockets, settings.ws_session_check_s)
    )
    # Everything made so far (the app, its routes and schemas, the clients) lives as long as the
    # process: out of the collector's sight, a full collection does not walk it. That walk
    # is a pause of tens of milliseconds, most of the API's p99 under load. Collect first, so
    # that no garbage is kept for good.
    gc.collect()
    gc.freeze()
    try:
        # uvicorn hands the lifespan's state to every connection's protocol
        yield {HTTP_TIMEOUTS: (settings.api_header_timeout_s, settings.api_body_timeout_s)}
    finally:
        # the feed stops between two fetches (see feed); cancelled only if it has not by then
        stopping.set()
        watcher.cancel()
        _, stuck = await asyncio.wait({feeder, watcher}, timeout=_STOP_WAIT_S)
        for task in stuck:
            task.cancel()
        if stuck:
            log.warning("background task(s) cancelled at stop: %d", len(stuck))
            await asyncio.wait(stuck, timeout=_STOP_WAIT_S)
        await finish_lag_measurement(app.state.stores)
        await influx.close()
        await redis.aclose()
        await per_request.close()
        await pool.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options that follow from the settings."""
    return {
        "http": HttpProtocol,
        # the edge middleware logs requests without query strings (they may carry tokens)
        "access_log": False,
        "proxy_headers": settings.api_trust_proxy,
        "forwarded_allow_ips": "*" if settings.api_trust_proxy else None,
        "server_header": False,
        # past this many connections and requests in flight, requests get 503
        "limit_concurrency": settings.api_max_connections,
        # a stop waits this long for open requests and connections, not for ever: a client
        # that holds one open must not hold up a restart
        "timeout_graceful_shutdown": settings.api_shutdown_timeout_s,
    }


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus ours at INFO (the access log among it), written in batches (see
    :mod:`marketpulse.api.buffered_log`). uvicorn applies this in every worker process: each is
    a fresh interpreter, so logging set up in the parent reaches none of them."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["marketpulse"] = {"format": LOG_FORMAT}
    config["handlers"]["marketpulse"] = {
        "class": "marketpulse.api.buffered_log.BufferedStreamHandler",
        "formatter": "marketpulse",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["marketpulse"] = {
        "handlers": ["marketpulse"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings``."""
    settings = settings or get_settings()
    redact_tokens(logging.getLogger("uvicorn.error"))
    app = FastAPI(
        title="marketpulse",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
        # Our metrics are Prometheus. FastAPI's own OpenTelemetry instrumentation, on by
        # default, asks the global providers on every request whether they are configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.cached_routes = {}
    errors.install(app)
    modules = (
        market_data, indicators, signals, auth, watchlist, storage, monitoring, security, stream,
    )  # fmt: skip
    mount(app, *(module.router for module in modules))
    dashboard.install(app)
    app.add_middleware(CachedByUrl)  # inside CORS and the edge: their headers apply to it too
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "API-Version", "X-Request-ID"],
            expose_headers=_EXPOSED,
        )
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.api_max_body_bytes)
    return app
