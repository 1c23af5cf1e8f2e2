"""Redis, from Debian's redis-server, without persistence."""

from __future__ import annotations

from marketpulse.services.apt import ensure_installed
from marketpulse.services.base import LocalService
from marketpulse.services.probes import redis_ping


class Redis(LocalService):
    """A cache: nothing in it must outlive a restart."""

    name = "redis"
    env_hint = "MARKETPULSE_REDIS_URL"
    start_timeout_s = 15.0

    @property
    def address(self) -> tuple[str, int]:
        return self.settings.redis_address

    @property
    def process_match(self) -> str:
        return "redis-server"

    def healthy(self) -> bool:
        return redis_ping(*self.address)

    def start(self) -> None:
        binary = ensure_installed(self.name, "redis-server", "redis-server", self.env_hint)
        host, port = self.address
        workdir = self.data_dir / "redis"
        workdir.mkdir(parents=True, exist_ok=True)
        self.process.spawn(
            [
                binary,
                "--bind",
                host,
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--daemonize",
                "no",
            ]
        )
