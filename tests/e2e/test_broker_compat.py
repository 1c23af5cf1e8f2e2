"""The Tansu adjustments, shown against the real broker with real worker processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka.structs import ConsumerRecord

from marketpulse.settings import Settings
from tests.kafka_helpers import consume_until, produce, unique
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.e2e]

KEYS = [f"k{i:02d}" for i in range(20)]
READY = "[^---Recovery]: Worker ready"  # logged after every assignment, not just the first


class Counter:
    """Start counter-app workers that share one group and one pair of topics."""

    def __init__(self, tmp_path: Path) -> None:
        self.topic_in = unique("counter.in")
        self.topic_out = unique("counter.out")
        self.app_id = unique("counter")
        self.tmp_path = tmp_path
        self.workers: list[WorkerProcess] = []

    def start(self) -> WorkerProcess:
        env = {
            "COUNTER_IN": self.topic_in,
            "COUNTER_OUT": self.topic_out,
            "MARKETPULSE_WORKER_ID": self.app_id,
            # a killed worker's partitions move once its session expires: seconds, not ten
            "MARKETPULSE_KAFKA_SESSION_TIMEOUT_S": "4",
        }
        log = self.tmp_path / f"worker{len(self.workers)}.log"
        argv = ["-m", "tests.e2e.counter_app", "worker", "-l", "info", "--without-web"]
        worker = WorkerProcess(argv, env, log)
        self.workers.append(worker)
        return worker

    async def send_round(self, settings: Settings, per_key: int = 1) -> None:
        messages = [(k.encode(), b"1") for _ in range(per_key) for k in KEYS]
        await produce(settings, self.topic_in, messages)

    async def wait_counts(
        self, settings: Settings, expected: int
    ) -> dict[str, list[dict[str, int]]]:
        """Return every report by key once each key has reported ``expected``."""

        def reports(records: list[ConsumerRecord[bytes, bytes]]) -> dict[str, list[dict[str, int]]]:
            by_key: dict[str, list[dict[str, int]]] = {k: [] for k in KEYS}
            for record in records:
                report = orjson.loads(record.value)
                by_key[report["key"]].append(report)
            return by_key

        def done(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            by_key = reports(records)
            return all(any(r["count"] >= expected for r in rs) for rs in by_key.values())

        return reports(await consume_until(settings, [self.topic_out], done, timeout_s=90))

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.stop()


@pytest.fixture
def counter(services: Settings, tmp_path: Path) -> Iterator[Counter]:
    c = Counter(tmp_path)
    yield c
    c.stop_all()


async def test_table_state_is_recovered_exactly_after_restart(
    services: Settings, counter: Counter
) -> None:
    first = counter.start()
    first.wait_for_log(READY)
    await counter.send_round(services, per_key=10)
    await counter.wait_counts(services, 10)
    assert first.stop() == 0

    second = counter.start()
    second.wait_for_log(READY)
    await counter.send_round(services)
    reports = await counter.wait_counts(services, 11)

    for key, rs in reports.items():
        after_restart = [r["count"] for r in rs if r["pid"] == second.pid]
        assert after_restart == [11], f"{key}: counts after restart {after_restart}"


async def test_failover_after_kill_keeps_complete_state(
    services: Settings, counter: Counter
) -> None:
    a = counter.start()
    a.wait_for_log(READY)
    b = counter.start()
    b.wait_for_log(READY)
    a.wait_for_log(READY, count=2)  # a rebalanced to make room for b
    await counter.send_round(services, per_key=10)
    reports = await counter.wait_counts(services, 10)
    pids = {r["pid"] for rs in reports.values() for r in rs}
    assert pids == {a.pid, b.pid}, "the two workers did not split the partitions"

    b.kill()
    await counter.send_round(services)
    reports = await counter.wait_counts(services, 11)
    for key, rs in reports.items():
        last = [r for r in rs if r["count"] == 11]
        assert [r["pid"] for r in last] == [a.pid], f"{key}: {last}"
        assert max(r["count"] for r in rs) == 11, f"{key}: state went past 11: {rs}"
