"""What `marketpulse up` shows: one screen (addresses, the account, the source, where the logs
are) and a live status line, and the local account it makes on a first start."""

from __future__ import annotations

import asyncio
import re
import secrets
import urllib.request
from dataclasses import dataclass

from marketpulse.api.security import hash_password
from marketpulse.settings import Settings
from marketpulse.storage.postgres import create_pool
from marketpulse.storage.repositories.users import UserRepository
from marketpulse.streams.lag import group_lag

LOCAL_USER = "local"
_SAMPLE = re.compile(r"^(marketpulse_events_in_total|marketpulse_bars_total)\{[^}]*\} (\S+)$")


async def ensure_local_account(users: UserRepository, rounds: int) -> tuple[str, str] | None:
    """On a database without users, make an admin account with a random password and return
    its name and password (shown once, stored only as a bcrypt hash); None when users exist."""
    if (await users.counts())["total"]:
        return None
    password = secrets.token_urlsafe(12)
    await users.create(
        LOCAL_USER, f"{LOCAL_USER}@localhost", hash_password(password, rounds), ["admin"]
    )
    return LOCAL_USER, password


async def first_start_account(settings: Settings) -> tuple[str, str] | None:
    """:func:`ensure_local_account` on the configured database."""
    pool = await create_pool(settings, max_size=1)
    try:
        return await ensure_local_account(UserRepository(pool), settings.bcrypt_rounds)
    finally:
        await pool.close()


def screen(
    settings: Settings, account: tuple[str, str] | None, source: str, logs: str
) -> list[str]:
    """The lines printed once the pipeline runs."""
    api = f"http://{settings.api_host}:{settings.api_port}"
    if account is None:
        sign_in = "an existing user (`marketpulse user add NAME` makes another)"
    else:
        sign_in = f"{account[0]} / {account[1]}  (made now; shown this once)"
    return [
        "",
        "marketpulse is running:",
        f"  dashboard {api}/dashboard",
        f"  sign in   {sign_in}",
        f"  API       {api}/api/v1  (docs {api}/docs)",
        f"  health    {api}/api/v1/monitoring/health",
        f"  source    {source}",
        f"  logs      {logs}",
        "Ctrl-C stops it (the data stays under .data/).",
    ]


@dataclass
class Status:
    """The live line: events per second since the last look, bars published, consumer lag."""

    events: float | None = None
    at: float | None = None

    def line(self, settings: Settings, now: float) -> str:
        counts = _worker_counts(settings)
        if counts is None:
            return "  live: the worker is starting"
        events, bars = counts
        rate = (
            (events - self.events) / (now - self.at)
            if self.events is not None and self.at is not None and now > self.at
            else 0.0
        )
        self.events, self.at = events, now
        lag = _lag(settings)
        return f"  live: {rate:,.0f} events/s, {bars:,.0f} bars published, lag {lag}"


def _worker_counts(settings: Settings) -> tuple[float, float] | None:
    """Events taken in and bars published so far, from the worker's Prometheus page."""
    if not settings.worker_metrics_port:
        return None
    url = f"http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=1) as page:
            text = page.read().decode()
    except OSError:
        return None
    totals = {"marketpulse_events_in_total": 0.0, "marketpulse_bars_total": 0.0}
    for line in text.splitlines():
        found = _SAMPLE.match(line)
        if found:
            totals[found.group(1)] += float(found.group(2))
    return totals["marketpulse_events_in_total"], totals["marketpulse_bars_total"]


def _lag(settings: Settings) -> str:
    try:
        lags = asyncio.run(asyncio.wait_for(group_lag(settings, [settings.worker_id]), 5))
    except (OSError, TimeoutError, RuntimeError):
        return "unknown"
    lag = lags.get(settings.worker_id)
    return "not committed yet" if lag is None else f"{lag:,} records"
