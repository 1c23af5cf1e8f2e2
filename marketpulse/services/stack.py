"""The local stack: every service in start order, brought up and down together."""

from __future__ import annotations

from collections.abc import Callable

from marketpulse.services.base import LocalService, Status
from marketpulse.services.influxdb_server import InfluxDB
from marketpulse.services.postgres_server import PostgreSQL
from marketpulse.services.redis_server import Redis
from marketpulse.services.tansu_server import Tansu
from marketpulse.settings import Settings


def services(settings: Settings) -> list[LocalService]:
    """Return every service the pipeline needs, in start order."""
    return [Tansu(settings), Redis(settings), PostgreSQL(settings), InfluxDB(settings)]


def up(settings: Settings, report: Callable[[str], None] = print) -> list[str]:
    """Make every service healthy; return the names of those this call started."""
    started = []
    for service in services(settings):
        if service.ensure_up():
            started.append(service.name)
            report(f"{service.name:9} started at {service.address_text()}")
        else:
            report(f"{service.name:9} already up at {service.address_text()} (used as it is)")
    return started


def down(settings: Settings, only: set[str] | None = None) -> list[str]:
    """Stop the services we started (all, or the named ones); return what was stopped."""
    stopped = []
    for service in reversed(services(settings)):
        if (only is None or service.name in only) and service.stop():
            stopped.append(service.name)
    return stopped


def status(settings: Settings) -> list[Status]:
    """Probe every service."""
    return [service.status() for service in services(settings)]
