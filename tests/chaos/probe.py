"""A client that keeps asking the API during the run, as a dashboard would, and writes down
every answer: the deep health check, and a signed-in read of recent bars."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.chaos.stack import PASSWORD, SYMBOLS

HEALTH = "/api/v1/monitoring/health"
BARS = f"/api/v1/market-data/{SYMBOLS[0]}/intraday"
SIGN_IN = "/api/v1/auth/login"


@dataclass(frozen=True)
class Answer:
    """One request: when (seconds into the run), what, and the status (0: no answer)."""

    at: float
    path: str
    status: int


@dataclass
class ApiProbe:
    """Polls until stopped. Without a token (before the first sign-in, or after one failed) it
    signs in first; a 401 drops the token, and is written down like every answer."""

    base_url: str
    began: float
    interval_s: float = 0.2
    answers: list[Answer] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as client:
            token = ""
            while not stop.is_set():
                if not token:
                    token = await self._sign_in(client)
                await self._ask(client, HEALTH)
                if token and await self._ask(client, BARS, token) == 401:
                    token = ""
                await asyncio.sleep(self.interval_s)  # the polling period of a client

    async def _ask(self, client: httpx.AsyncClient, path: str, token: str = "") -> int:
        params = {"granularity": "5s", "limit": "5"} if path == BARS else {}
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self._request(client, "GET", path, params=params, headers=headers)
        return 0 if response is None else response.status_code

    async def _sign_in(self, client: httpx.AsyncClient) -> str:
        body = {"username": "chaos", "password": PASSWORD}
        response = await self._request(client, "POST", SIGN_IN, json=body)
        if response is None or response.status_code != 200:
            return ""
        return str(response.json()["data"]["access_token"])

    async def _request(
        self, client: httpx.AsyncClient, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.TransportError:
            response = None
        status = 0 if response is None else response.status_code
        self.answers.append(Answer(time.monotonic() - self.began, path, status))
        return response
