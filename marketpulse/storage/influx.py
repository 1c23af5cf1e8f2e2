"""InfluxDB through its v1 HTTP API (/write, /query, /ping): served by InfluxDB 1.x, and by 2.x
and 3.x through their v1 compatibility endpoints (docs/architecture.md says why)."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import orjson

from marketpulse.errors import StoreError
from marketpulse.settings import Settings
from marketpulse.storage.line_protocol import Point, encode


class InfluxError(StoreError):
    """InfluxDB refused a request (4xx) or failed (5xx, network); ``retriable`` tells which."""


# Statement errors that InfluxDB gives for its own state rather than the query's: shutting
# down, a query killed or interrupted, too many running at once. The same query may pass on
# the next try: an outage, not a refusal.
_TRANSIENT: Final = (
    "query engine shutdown",
    "query interrupted",
    "query aborted",
    "max concurrent queries reached",
)


def statement_error(message: str) -> InfluxError:
    """The error for a statement InfluxDB answered with ``message``: retriable when it speaks
    of the server's state, else a refusal of the query."""
    return InfluxError(f"query failed: {message}", retriable=message.startswith(_TRANSIENT))


@dataclass(frozen=True)
class RetentionPolicy:
    """How long a family of measurements is kept (the retention of docs/architecture.md)."""

    name: str
    duration: str


RETENTION = {
    "quotes": RetentionPolicy("quotes_30d", "30d"),
    "raw": RetentionPolicy("raw_1y", "365d"),
    "daily": RetentionPolicy("daily_10y", "3650d"),
    "indicators": RetentionPolicy("indicators_5y", "1825d"),
}


def auth_headers(settings: Settings) -> dict[str, str]:
    """None, Basic (username and password) or ``Authorization: Token`` (2.x/3.x v1 endpoints)."""
    if settings.influx_token is not None:
        return {"Authorization": f"Token {settings.influx_token.get_secret_value()}"}
    if settings.influx_username:
        password = settings.influx_password.get_secret_value() if settings.influx_password else ""
        raw = f"{settings.influx_username}:{password}".encode()
        return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}
    return {}


class InfluxClient:
    """An async client for one database."""

    def __init__(self, settings: Settings, timeout_s: float = 10.0) -> None:
        self._url = settings.influx_url.rstrip("/")
        self.database = settings.influx_database
        self._chunk = settings.influx_write_chunk
        self._writes = asyncio.Semaphore(settings.influx_write_concurrency)
        self._session = aiohttp.ClientSession(
            headers=auth_headers(settings), timeout=aiohttp.ClientTimeout(total=timeout_s)
        )

    async def close(self) -> None:
        """Release the connection pool."""
        await self._session.close()

    async def __aenter__(self) -> InfluxClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def ping(self) -> bool:
        """Whether the server answers."""
        try:
            async with self._session.get(f"{self._url}/ping") as response:
                return response.status == 204
        except aiohttp.ClientError:
            return False

    async def write(self, points: list[Point], retention_policy: str | None = None) -> None:
        """Write points (ns precision). Rewriting a point with the same identity replaces it."""
        await self.write_lines([encode(p) for p in points], retention_policy)

    async def write_lines(self, lines: list[str], retention_policy: str | None = None) -> None:
        """Write lines already encoded (see :mod:`marketpulse.storage.line_protocol`), in
        requests of ``influx_write_chunk`` lines, up to ``influx_write_concurrency`` at once
        (InfluxDB ingests concurrent requests on several cores). If any request fails, this
        raises, and the whole write is to be repeated: rewriting points changes nothing."""
        if not lines:
            return
        params = {"db": self.database, "precision": "ns"}
        if retention_policy:
            params["rp"] = retention_policy

        async def send(chunk: list[str]) -> None:
            async with self._writes:
                body = ("\n".join(chunk) + "\n").encode()
                await self._request("POST", "/write", params=params, data=body)

        size = self._chunk
        await asyncio.gather(*(send(lines[i : i + size]) for i in range(0, len(lines), size)))

    async def query(
        self, text: str, params: dict[str, Any] | None = None, retention_policy: str | None = None
    ) -> list[dict[str, Any]]:
        """Run InfluxQL; user input goes in ``params`` ($name in the text), never into it."""
        form: dict[str, str] = {"db": self.database, "q": text, "epoch": "ns"}
        if params:
            form["params"] = orjson.dumps(params).decode()
        if retention_policy:
            form["rp"] = retention_policy
        body = await self._request("POST", "/query", data=form)
        results: list[dict[str, Any]] = orjson.loads(body)["results"]
        for result in results:
            if "error" in result:
                raise statement_error(str(result["error"]))
        return results

    async def rows(
        self, text: str, params: dict[str, Any] | None = None, retention_policy: str | None = None
    ) -> list[dict[str, Any]]:
        """The first statement's rows as dicts, tags included."""
        results = await self.query(text, params, retention_policy)
        out = []
        for series in results[0].get("series", []):
            tags = series.get("tags", {})
            for values in series.get("values", []):
                out.append({**tags, **dict(zip(series["columns"], values, strict=True))})
        return out

    async def ensure_database(self) -> None:
        """Create the database and its retention policies (idempotent)."""
        name = identifier(self.database)
        await self._request("POST", "/query", data={"q": f"CREATE DATABASE {name}"})
        for policy in RETENTION.values():
            statement = (
                f"CREATE RETENTION POLICY {identifier(policy.name)} ON {name} "
                f"DURATION {policy.duration} REPLICATION 1"
            )
            await self._request("POST", "/query", data={"q": statement})

    async def _request(self, method: str, path: str, **kwargs: Any) -> bytes:
        try:
            async with self._session.request(method, f"{self._url}{path}", **kwargs) as response:
                body = await response.read()
                if response.status >= 300:
                    text = body.decode(errors="replace")[:500]
                    retriable = response.status >= 500 or response.status == 429
                    raise InfluxError(f"{method} {path}: HTTP {response.status}: {text}", retriable)
                return body
        except aiohttp.ClientError as exc:
            raise InfluxError(f"{method} {path}: {exc}", retriable=True) from exc


def identifier(name: str) -> str:
    """Quote an InfluxQL identifier (database and policy names come from settings)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
