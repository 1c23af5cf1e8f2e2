"""The Kubernetes manifests: valid against the Kubernetes schemas, and consistent with the code
(settings that exist, commands that parse, probe paths the API serves, workers within the
partitions)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from marketpulse.api.main import create_app
from marketpulse.cli import build_parser
from marketpulse.settings import Settings
from tests.workers import REPO

K8S = REPO / "deploy" / "k8s"
KUBERNETES = "1.33"


def _documents() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, doc)
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def _pod_specs() -> list[dict[str, Any]]:
    specs = []
    for _path, doc in _documents():
        spec = doc.get("spec", {})
        if doc["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            specs.append(spec["template"]["spec"])
    return specs


def _kind(kind: str, name: str) -> dict[str, Any]:
    return next(d for _p, d in _documents() if d["kind"] == kind and d["metadata"]["name"] == name)


@pytest.mark.parametrize(("path", "doc"), _documents(), ids=lambda v: getattr(v, "name", ""))
def test_every_document_is_valid_kubernetes(path: Path, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_every_configured_name_is_a_setting() -> None:
    names = {f"MARKETPULSE_{field.upper()}" for field in Settings.model_fields}
    for kind in ("ConfigMap", "Secret"):
        doc = _kind(kind, "marketpulse")
        keys = set(doc.get("data") or doc.get("stringData") or {})
        assert keys, kind
        assert keys <= names, keys - names
    wanted = [{"configMapRef": {"name": "marketpulse"}}, {"secretRef": {"name": "marketpulse"}}]
    assert all(
        container["envFrom"] == wanted for spec in _pod_specs() for container in spec["containers"]
    )


def test_every_container_runs_a_real_command_of_one_image() -> None:
    parser = build_parser()
    for spec in _pod_specs():
        for container in spec["containers"]:
            assert container["image"] == "marketpulse:latest"
            args = container["args"]
            if container.get("command") == ["sh", "-c"]:
                yesterday = args[0].replace('"$(date -d yesterday +%F)"', "2024-01-02")
                args = shlex.split(yesterday)[1:]
            parser.parse_args(args)  # exits (SystemExit) on anything it does not know


def test_workers_fit_the_partitions() -> None:
    partitions = int(_kind("ConfigMap", "marketpulse")["data"]["MARKETPULSE_TOPIC_PARTITIONS"])
    assert _kind("Deployment", "marketpulse-worker")["spec"]["replicas"] <= partitions
    assert _kind("Deployment", "marketpulse-sinks")["spec"]["replicas"] <= partitions


def test_api_probes_hit_served_paths_that_ask_no_dependency() -> None:
    served = set(create_app(Settings()).openapi()["paths"])
    container = _kind("Deployment", "marketpulse-api")["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        path = container[probe]["httpGet"]["path"]
        assert path in served
        assert path.endswith("/live")
