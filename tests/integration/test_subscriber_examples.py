"""The subscriber examples in examples/ (aiokafka and confluent-kafka), each run as a subscriber
would run it, against the real broker: every record reaches the application once, through a
crash and a duplicate delivery, and a record that fails its schema is reported, not applied."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from marketpulse.schemas.signals import Signal
from marketpulse.settings import Settings
from tests.factories import make_snapshot
from tests.kafka_helpers import produce, unique
from tests.workers import REPO

pytestmark = [pytest.mark.integration]
M = 60 * 10**9
T0 = 1_700_000_040 * 10**9


CLIENTS = ["subscribe_aiokafka.py", "subscribe_confluent.py"]


def run(
    example: str, settings: Settings, prefix: str, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, str(REPO / "examples" / example),
            "--bootstrap", settings.bootstrap_servers(), "--prefix", prefix,
            "--group", f"{prefix}subscriber", "--state", str(tmp_path / "state.sqlite"),
            "--out", str(tmp_path / "out.jsonl"),
            # the crashed run's member leaves no word: the group drops it after this
            "--session-timeout-s", "4", *extra,
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("example", CLIENTS)
async def test_each_record_reaches_the_application_once(
    example: str, services: Settings, tmp_path: Path
) -> None:
    prefix = unique("subscriber") + "."
    snapshots = [make_snapshot("AAPL", "1m", T0 + i * M, {"sma_20": 100.0 + i}) for i in range(8)]
    signals = [
        Signal(symbol="AAPL", granularity="1m", ts=T0 + i * M, kind="trend",
               name="golden_cross", direction="bullish", strength=60.0)
        for i in range(4)
    ]  # fmt: skip
    indicators = [(b"AAPL", s.model_dump_json().encode()) for s in snapshots]
    indicators.insert(3, indicators[2])  # delivered twice, as at-least-once allows
    indicators.append((b"AAPL", b'{"symbol": "AAPL"}'))  # fails the schema
    # a revised bar publishes the snapshot again, a revision higher; then the older one comes
    # again (a replay after a crash)
    revised = snapshots[6].model_copy(update={"revision": 1, "values": {"sma_20": 99.0}})
    indicators += [(b"AAPL", revised.model_dump_json().encode()), indicators[7]]
    await produce(services, f"{prefix}analytics.indicators", indicators)
    withdrawn = signals[1].model_copy(update={"revision": 1, "withdrawn": True})
    await produce(
        services,
        f"{prefix}analytics.signals",
        [(b"AAPL", s.model_dump_json().encode()) for s in [*signals, withdrawn]],
    )

    crashed = run(example, services, prefix, tmp_path, "--crash-after", "5")
    assert crashed.returncode == 3, crashed.stderr  # stored five, committed nothing
    finished = run(example, services, prefix, tmp_path, "--exit-when-idle", "3")
    assert finished.returncode == 0, finished.stderr

    applied = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    versions = [(a["id"], a["revision"]) for a in applied]
    assert len(versions) == len(set(versions)) == len(snapshots) + len(signals) + 2
    ids = [a["id"] for a in applied]
    assert len(set(ids)) == len(snapshots) + len(signals)
    again = [a for a in applied if a["revision"] == 1]
    assert {(a["id"], a.get("withdrawn")) for a in again} == {
        (f"analytics.indicators:AAPL|1m|{T0 + 6 * M}", None),
        (f"analytics.signals:AAPL|1m|{signals[1].ts}|golden_cross", True),
    }
    assert {i for i in ids if i.startswith("analytics.signals:")} == {
        f"analytics.signals:AAPL|1m|{s.ts}|golden_cross" for s in signals
    }
    assert "skipped" in crashed.stderr + finished.stderr  # the record that failed its schema
