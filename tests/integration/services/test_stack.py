"""`marketpulse services`: reuse what runs, start what is missing, stop only what it started."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketpulse.cli import main
from marketpulse.errors import ServiceError
from marketpulse.services import apt, stack
from marketpulse.services.redis_server import Redis
from marketpulse.settings import Settings, get_settings
from tests.workers import free_port

pytestmark = [pytest.mark.integration]


@pytest.fixture
def own_redis(services: Settings, tmp_path: Path) -> Iterator[Settings]:
    """The running stack, except Redis: a port nothing listens on, state in a fresh folder."""
    settings = services.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "data_dir": tmp_path / "data"}
    )
    yield settings
    stack.down(settings)


def test_status_reports_every_service(
    services: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    get_settings.cache_clear()
    monkeypatch.setattr("marketpulse.cli.get_settings", lambda: services)
    assert main(["services", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["kafka", "redis", "postgres", "influxdb"]
    assert all(" healthy " in line for line in lines)


def test_up_reuses_running_services_and_starts_the_missing_one(own_redis: Settings) -> None:
    assert stack.up(own_redis, report=lambda _line: None) == ["redis"]
    by_name = {s.name: s for s in stack.status(own_redis)}
    assert by_name["redis"].healthy
    assert by_name["redis"].managed
    assert not by_name["kafka"].managed  # started elsewhere: used as it is
    assert stack.up(own_redis, report=lambda _line: None) == []  # idempotent


def test_down_stops_only_what_up_started(own_redis: Settings, services: Settings) -> None:
    stack.up(own_redis, report=lambda _line: None)
    assert stack.down(own_redis) == ["redis"]
    assert not Redis(own_redis).healthy()
    assert all(s.healthy for s in stack.status(services))  # the shared stack is untouched


def test_a_service_that_cannot_start_is_named_with_its_log(own_redis: Settings) -> None:
    with socket.socket() as squatter:  # something that is not Redis holds the port
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        taken = own_redis.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
        with pytest.raises(ServiceError) as caught:
            Redis(taken).ensure_up()
    assert caught.value.service == "redis"
    assert "Address already in use" in caught.value.log_tail
    assert "--- last lines of the redis log ---" in str(caught.value)


def test_remote_addresses_are_never_started(own_redis: Settings) -> None:
    remote = own_redis.model_copy(update={"redis_url": "redis://10.255.255.1:6379/0"})
    with pytest.raises(ServiceError, match="only loopback services are started"):
        Redis(remote).ensure_up()


def test_without_root_the_error_says_what_is_missing_and_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(apt.shutil, "which", lambda _name: None)
    monkeypatch.setattr(apt, "_sbin", lambda _name: None)
    monkeypatch.setattr(apt.os, "geteuid", lambda: 1000)
    with pytest.raises(ServiceError) as caught:
        apt.ensure_installed("redis", "redis-server", "redis-server", "MARKETPULSE_REDIS_URL")
    message = str(caught.value)
    assert "redis-server" in message
    assert "MARKETPULSE_REDIS_URL" in message
