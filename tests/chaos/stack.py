"""The full stack of one chaos run, as `marketpulse up` runs it: a source, workers, the sinks and
the API, each a real process. The stores are servers of the run's own on free ports, so that
restarting them touches nothing else on the machine; the broker is the shared local one, under
a topic namespace of the run's own."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from marketpulse.api.security import hash_password
from marketpulse.services.base import LocalService
from marketpulse.services.influxdb_server import InfluxDB
from marketpulse.services.postgres_server import PostgreSQL
from marketpulse.services.redis_server import Redis
from marketpulse.settings import Settings
from marketpulse.storage.postgres import create_pool
from marketpulse.storage.repositories.users import UserRepository
from marketpulse.storage.setup import prepare_stores
from tests.kafka_helpers import unique
from tests.workers import WorkerProcess, free_port

READY = "[^---Recovery]: Worker ready"
PASSWORD = "chaos monkey password"
SYMBOLS = ["AAPL", "MSFT", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "JPM"]


class ChaosStack:
    """Settings, stores and processes of one run; everything is stopped by :meth:`close`."""

    def __init__(self, base: Settings, root: Path, rate: int) -> None:
        self.root = root
        self.rate = rate
        name = unique("chaos")
        self.values: dict[str, Any] = {
            "data_dir": root / "data",
            "topic_prefix": f"{name}.",
            "worker_id": name,
            "topic_partitions": 4,
            "granularities": ["5s", "30s"],
            "redis_url": f"redis://127.0.0.1:{free_port()}/0",
            "postgres_port": free_port(),
            "influx_url": f"http://127.0.0.1:{free_port()}",
            "influx_rpc_port": free_port(),
            "api_port": free_port(),
            "worker_metrics_port": 0,
            "sink_metrics_port": 0,
            "jwt_secret": SecretStr("chaos-secret-of-at-least-thirty-two-bytes"),
            "bcrypt_rounds": 4,
            "api_rate_ip": 1_000_000,
            "api_rate_user": 1_000_000,
            # A killed worker's partitions move once the group stops waiting for it; the
            # broker holds a join for half of this too.
            "kafka_session_timeout_s": 4,
            # A store that is down is retried soon after it is back.
            "sink_retry_max_ms": 1000,
            "sink_breaker_cooldown_ms": 1000,
        }
        self.settings = base.model_copy(update=self.values)
        self.env = {f"MARKETPULSE_{key.upper()}": _env_text(v) for key, v in self.values.items()}
        self.postgres = PostgreSQL(self.settings)
        self.stores: dict[str, LocalService] = {
            "influxdb": InfluxDB(self.settings),
            "postgres": self.postgres,
            "redis": Redis(self.settings),
        }
        self.processes: dict[str, WorkerProcess] = {}
        self.token = ""

    @property
    def api_url(self) -> str:
        """The API's base URL."""
        return f"http://127.0.0.1:{self.settings.api_port}"

    async def open(self) -> None:
        """Start the stores, prepare them, add a user and start every process but the source."""
        for store in self.stores.values():
            await asyncio.to_thread(store.ensure_up)
        await prepare_stores(self.settings)
        pool = await create_pool(self.settings, max_size=1)
        try:
            await UserRepository(pool).create(
                "chaos", "chaos@example.com", hash_password(PASSWORD, 4), ["user"]
            )
        finally:
            await pool.close()
        await asyncio.gather(
            asyncio.to_thread(self.start_worker, "worker-a"),
            asyncio.to_thread(self.start, "sinks", ["sinks"]),
            asyncio.to_thread(self.start_api),
        )

    def start(self, name: str, argv: list[str]) -> WorkerProcess:
        """Start ``marketpulse <argv>`` as process ``name`` (a restart appends to its log)."""
        log = self.root / f"{name}.log"
        process = WorkerProcess(["-m", "marketpulse.cli", *argv], self.env, log)
        self.processes[name] = process
        return process

    def start_worker(self, name: str) -> WorkerProcess:
        """Start a worker of the run's group and wait until it has recovered its state."""
        log = self.root / f"{name}.log"
        before = log.read_text(errors="replace").count(READY) if log.exists() else 0
        worker = self.start(name, ["worker"])
        worker.wait_for_log(READY, timeout_s=120, count=before + 1)
        return worker

    def start_api(self) -> None:
        """Start the API and wait until it answers."""
        api = self.start("api", ["api"])
        api.wait_for_url(self.api_url + "/api/v1/monitoring/live")

    def start_source(self) -> WorkerProcess:
        """The synthetic market at the run's rate, live event time, until stopped."""
        argv = ["source", "synthetic", "--symbols", ",".join(SYMBOLS), "--rate", str(self.rate)]
        return self.start("source", argv)

    def close(self) -> None:
        """Stop every process and store of the run (the shared broker stays)."""
        for process in self.processes.values():
            process.stop()
        for store in self.stores.values():
            store.stop()
        shutil.rmtree(self.postgres.cluster_dir.resolve(), ignore_errors=True)


def _env_text(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return str(value)
