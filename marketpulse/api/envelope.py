"""The response shapes every endpoint shares: ``{data, metadata}`` and ``{error, metadata}``.

Bodies are encoded with orjson straight into a :class:`Response`, so FastAPI does not validate
and re-encode them (the models on each route document the shape in OpenAPI). A cached response
keeps only its encoded ``data``; the metadata is made fresh for each request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

from marketpulse import __version__

API_VERSION = "1"
JSON = "application/json"


def request_id(request: Request) -> str:
    """The id the edge middleware gave this request."""
    return str(request.scope.get("state", {}).get("request_id", ""))


_second: list[Any] = [-1, ""]  # the last second formatted, and its text


def timestamp() -> str:
    """Now, as ISO 8601 UTC to the millisecond (``2026-01-02T03:04:05.678Z``). The second's text
    is made once per second: formatting a datetime was a tenth of a cached answer's CPU."""
    second, ns = divmod(time.time_ns(), 1_000_000_000)
    if second != _second[0]:
        _second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_second[1]}.{ns // 1_000_000:03d}Z"


def metadata(request_id: str, cache_used: bool = False) -> dict[str, Any]:
    """The metadata block of a response."""
    return {
        "timestamp": timestamp(),
        "version": __version__,
        "api_version": API_VERSION,
        "cache_used": cache_used,
        "request_id": request_id,
    }


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)  # IP addresses, Decimals, paths


def encode_data(data: Any) -> bytes:
    """The JSON of a payload (what the response cache keeps)."""
    return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)


def respond_encoded(
    request: Request,
    data_json: bytes,
    cache_used: bool = False,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    top_level: Mapping[str, Any] | None = None,
) -> Response:
    """A success response around an already encoded payload (``top_level``: extra members
    beside ``data`` and ``metadata``, for protocols that need them there)."""
    meta = orjson.dumps(metadata(request_id(request), cache_used))
    extra = b"," + orjson.dumps(top_level)[1:] if top_level else b"}"
    body = b"".join((b'{"data":', data_json, b',"metadata":', meta, extra))  # one copy of the data
    return Response(body, status_code=status_code, media_type=JSON, headers=headers)


def respond(
    request: Request,
    data: Any,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    top_level: Mapping[str, Any] | None = None,
) -> Response:
    """A success response: ``{data, metadata}``."""
    return respond_encoded(
        request, encode_data(data), status_code=status_code, headers=headers, top_level=top_level
    )


def error_body(
    request_id: str, code: str, message: str, details: Mapping[str, Any] | None = None
) -> bytes:
    """An error response's body: ``{error{code, message, details}, metadata}``."""
    return orjson.dumps(
        {
            "error": {"code": code, "message": message, "details": dict(details or {})},
            "metadata": metadata(request_id),
        },
        default=_default,
    )
