"""The response shape every endpoint shares: ``{data, metadata}``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from marketpulse import __version__


def metadata(request_id: str | None = None, cache_used: bool = False) -> dict[str, Any]:
    """Return the metadata block of a response."""
    return {
        "timestamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "version": __version__,
        "cache_used": cache_used,
        "request_id": request_id or uuid.uuid4().hex,
    }


def success(data: Any, request_id: str | None = None, cache_used: bool = False) -> dict[str, Any]:
    """Wrap ``data`` in the success envelope."""
    return {"data": data, "metadata": metadata(request_id, cache_used)}
