"""docker-compose.yml cannot run here (no Docker engine), so its structure is checked instead."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from marketpulse.cli import build_parser
from marketpulse.settings import Settings
from tests.workers import REPO


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def test_the_stack_is_complete(compose: dict[str, Any]) -> None:
    assert set(_services(compose)) >= {
        "kafka", "influxdb", "postgres", "redis", "prometheus", "grafana", "worker", "api",
        "source",
    }  # fmt: skip


def test_every_dependency_exists_and_waits_for_health(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, service in services.items():
        for dep, rule in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            if "healthcheck" in services[dep]:
                assert rule["condition"] == "service_healthy", f"{name} -> {dep}"


def test_infrastructure_has_healthchecks(compose: dict[str, Any]) -> None:
    for name in ("kafka", "influxdb", "postgres", "redis"):
        assert _services(compose)[name]["healthcheck"]["test"], name


def test_images_are_pinned_to_tags(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        image = service.get("image")
        assert image, f"{name} has no image name"
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image} is not pinned"
        assert re.match(r"^v?\d+(\.\d+)+", tag), f"{name}: {image} is not a version tag"


def test_environment_names_match_the_settings(compose: dict[str, Any]) -> None:
    fields = {f"MARKETPULSE_{name.upper()}" for name in Settings.model_fields}
    seen = set()
    for service in _services(compose).values():
        for key in service.get("environment") or {}:
            if key.startswith("MARKETPULSE_"):
                assert key in fields, f"{key} is not a setting"
                seen.add(key)
    assert "MARKETPULSE_KAFKA_BROKER" in seen


def test_secrets_are_required_never_literal(compose: dict[str, Any]) -> None:
    secrets = 0
    for name, service in _services(compose).items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "SECRET", "TOKEN")):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), f"{name}: {key}={value}"
                secrets += 1
    assert secrets >= 3


def test_commands_are_marketpulse_subcommands(compose: dict[str, Any]) -> None:
    parser = build_parser()
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["marketpulse"]' in dockerfile
    for name, service in _services(compose).items():
        if "build" in service:
            assert (REPO / service["build"]["dockerfile"]).exists()
            parser.parse_args(service["command"])  # exits (fails the test) if unknown
            assert name in {"worker", "api", "source"}
