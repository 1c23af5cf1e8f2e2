"""The web dashboard: one page and its assets, served from the package (nothing from a CDN).

The page signs in with the API's own auth and then uses only the public API: REST for history,
the WebSocket for live bars, indicators and signals.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

PATH = "/dashboard"
WEB = Path(str(files("marketpulse.api") / "web"))


def install(app: FastAPI) -> None:
    """Serve the page at ``/dashboard`` and its assets under ``/dashboard/assets``."""
    app.mount(f"{PATH}/assets", StaticFiles(directory=WEB / "assets"), name="dashboard-assets")

    @app.get(PATH, include_in_schema=False)
    async def page() -> FileResponse:
        # revalidated every time, so a new release's page is never mixed with old assets
        return FileResponse(WEB / "index.html", headers={"cache-control": "no-cache"})

    @app.get(f"{PATH}/", include_in_schema=False)
    async def slash() -> RedirectResponse:
        return RedirectResponse(PATH, status_code=308)
