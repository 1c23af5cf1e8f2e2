"""The FastAPI application: routers gathered under ``/api/v1``."""

from __future__ import annotations

from fastapi import FastAPI

from marketpulse import __version__
from marketpulse.api.routes import monitoring
from marketpulse.settings import Settings, get_settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings``."""
    app = FastAPI(title="marketpulse", version=__version__)
    app.state.settings = settings or get_settings()
    app.include_router(monitoring.router, prefix=API_PREFIX)
    return app
