"""A pipeline of its own for one test: a topic namespace, a worker group, helpers to read it."""

from __future__ import annotations

from pathlib import Path

import orjson
from aiokafka.structs import ConsumerRecord

from marketpulse.settings import Settings
from tests.kafka_helpers import consume_until, unique
from tests.workers import WorkerProcess

READY = "[^---Recovery]: Worker ready"


class Pipeline:
    """Workers that share a namespace and a group; everything the test reads comes from them."""

    def __init__(self, base: Settings, tmp_path: Path, **env: str) -> None:
        self.prefix = unique("t") + "."
        overrides = {
            key.removeprefix("MARKETPULSE_").lower(): orjson.loads(v) if v.startswith("[") else v
            for key, v in env.items()
        }
        self.settings = Settings.model_validate(
            {**base.model_dump(), **overrides, "topic_prefix": self.prefix}
        )
        self.env = {
            "MARKETPULSE_TOPIC_PREFIX": self.prefix,
            "MARKETPULSE_WORKER_ID": unique("w"),
            "MARKETPULSE_WORKER_METRICS_PORT": "0",
            **env,
        }
        self.tmp_path = tmp_path
        self.workers: list[WorkerProcess] = []

    def start_worker(self) -> WorkerProcess:
        log = self.tmp_path / f"worker{len(self.workers)}.log"
        worker = WorkerProcess(["-m", "marketpulse.cli", "worker"], self.env, log)
        self.workers.append(worker)
        worker.wait_for_log(READY)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.stop()

    async def read(
        self, topic: str, count: int, timeout_s: float = 90
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Every record on one of our topics, once at least ``count`` have arrived."""
        return await consume_until(
            self.settings, [self.prefix + topic], lambda rs: len(rs) >= count, timeout_s
        )


def decoded(records: list[ConsumerRecord[bytes, bytes]]) -> list[dict[str, object]]:
    """The JSON values of records."""
    return [orjson.loads(r.value) for r in records]
