"""A downstream subscriber of marketpulse's analytics topics, with aiokafka.

    python examples/subscribe_aiokafka.py --bootstrap 127.0.0.1:9092 --group my-app \\
        --state my-app.sqlite --out signals.jsonl

It reads ``analytics.indicators`` and ``analytics.signals``, validates every record with the
published JSON Schema (``marketpulse/schemas/json/``), and hands each to the application (here:
one line appended to ``--out``) exactly once, though the topics deliver at least once:

- every record carries a deterministic identity (an indicator snapshot: symbol, granularity and
  bar start; a signal: those and its name and time), so a record delivered twice is recognised;
- the application's effect and the identity are stored in one SQLite transaction, so a crash
  between them cannot keep one without the other;
- offsets are committed only after the records they cover are stored, so a crash replays them,
  and the stored identities turn the replay into nothing.

A record that fails its schema is reported on stderr and skipped (a dead letter of your own
would go here). It needs only aiokafka and jsonschema; it does not import marketpulse.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import jsonschema
from aiokafka import AIOKafkaConsumer

TOPICS = ("analytics.indicators", "analytics.signals")
SCHEMAS = Path(__file__).resolve().parent.parent / "marketpulse" / "schemas" / "json"


def identity(topic: str, record: dict[str, Any]) -> str:
    """The record's deterministic identity, as the producer keys it."""
    if topic.endswith("analytics.indicators"):
        return f"{record['symbol']}|{record['granularity']}|{record['bar_start']}"
    return f"{record['symbol']}|{record['granularity']}|{record['ts']}|{record['name']}"


class Store:
    """The application's state: what it has done, and the identities it has seen."""

    def __init__(self, path: Path, out: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY)")
        self.out = out

    def apply(self, topic: str, record: dict[str, Any]) -> bool:
        """Act on a record unless it was seen; True when it was new."""
        key = f"{topic}:{identity(topic, record)}"
        with self.db:  # one transaction: the identity and the effect, or neither
            if self.db.execute("SELECT 1 FROM seen WHERE id = ?", (key,)).fetchone():
                return False
            self.db.execute("INSERT INTO seen (id) VALUES (?)", (key,))
            with self.out.open("a") as out:  # the application's effect
                out.write(json.dumps({"topic": topic, "id": key}) + "\n")
        return True


async def subscribe(args: argparse.Namespace) -> int:
    validators = {
        name: jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{name}.json").read_text()))
        for name in TOPICS
    }
    topics = [f"{args.prefix}{name}" for name in TOPICS]
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,  # commit only what is stored
        auto_offset_reset="earliest",
    )
    store = Store(args.state, args.out)
    handled, idle = 0, 0.0
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=100)
            if not batches:
                idle += 1.0
                if args.exit_when_idle is not None and idle >= args.exit_when_idle:
                    return 0
                continue
            idle = 0.0
            for records in batches.values():
                for message in records:
                    name = message.topic.removeprefix(args.prefix)
                    try:
                        record = json.loads(message.value)
                        validators[name].validate(record)
                    except (ValueError, jsonschema.ValidationError) as exc:
                        print(f"skipped {message.topic}@{message.offset}: {exc}", file=sys.stderr)
                        continue
                    store.apply(name, record)
                    handled += 1
                    if args.crash_after is not None and handled >= args.crash_after:
                        return 3  # as a crash would: stored, not committed
            await consumer.commit()
    finally:
        await consumer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--prefix", default="", help="the deployment's topic prefix")
    parser.add_argument("--group", default="analytics-subscriber")
    parser.add_argument("--state", type=Path, default=Path("subscriber.sqlite"))
    parser.add_argument("--out", type=Path, default=Path("analytics.jsonl"))
    parser.add_argument(
        "--exit-when-idle", type=float, default=None, help="stop after this many idle seconds"
    )
    parser.add_argument("--crash-after", type=int, default=None, help=argparse.SUPPRESS)
    return asyncio.run(subscribe(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
