"""What the subscriber examples share: the application's side of exactly-once processing.

The analytics topics deliver at least once, so a subscriber sees a record twice after a crash
or a rebalance. The application here still acts on each record once:

- every record carries a deterministic identity (an indicator snapshot: symbol, granularity and
  bar start; a signal: those and its name and time) and a revision, so a record delivered twice
  is recognised, and a record published again after a revised bar (a higher revision; a signal
  that no longer holds comes with ``withdrawn``) replaces what was applied;
- the application's effect and the identity are stored in one SQLite transaction, so a crash
  between them cannot keep one without the other;
- the clients commit offsets only after the records they cover are stored, so a crash replays
  them, and the stored identities turn the replay into nothing.

Records are checked against the JSON Schemas that marketpulse publishes
(``marketpulse/schemas/json/``); one that fails is reported on stderr and skipped (a dead letter
of your own would go here). Nothing here imports marketpulse.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import jsonschema

TOPICS = ("analytics.indicators", "analytics.signals")
SCHEMAS = Path(__file__).resolve().parent.parent / "marketpulse" / "schemas" / "json"
CRASHED = 3  # the exit status of a run stopped by --crash-after
POLL_S = 1.0  # how long one poll of the broker waits for records


def identity(topic: str, record: dict[str, Any]) -> str:
    """The record's deterministic identity, as the producer keys it."""
    if topic.endswith("analytics.indicators"):
        return f"{record['symbol']}|{record['granularity']}|{record['bar_start']}"
    return f"{record['symbol']}|{record['granularity']}|{record['ts']}|{record['name']}"


class Application:
    """The application's state: what it has done, and the identities it has seen."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.db = sqlite3.connect(args.state)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS applied (id TEXT PRIMARY KEY, revision INTEGER NOT NULL)"
        )
        self.out: Path = args.out
        self.prefix: str = args.prefix
        self.crash_after: int | None = args.crash_after
        self.exit_when_idle: float | None = args.exit_when_idle
        self.handled = 0
        self.idle_s = 0.0
        self.validators = {
            name: jsonschema.Draft202012Validator(
                json.loads((SCHEMAS / f"{name}.json").read_text())
            )
            for name in TOPICS
        }

    @property
    def topics(self) -> list[str]:
        """The topics to subscribe to, under the deployment's prefix."""
        return [f"{self.prefix}{name}" for name in TOPICS]

    def polled(self, records: int, waited_s: float, assigned: bool) -> bool:
        """Note a poll that returned ``records``; False once the run has been idle for
        ``--exit-when-idle`` seconds with partitions assigned (a group's join takes a while,
        and what it assigns may still hold records)."""
        self.idle_s = 0.0 if records or not assigned else self.idle_s + waited_s
        return self.exit_when_idle is None or self.idle_s < self.exit_when_idle

    def handle(self, topic: str, offset: int, value: bytes | None) -> bool:
        """Decode, check and apply one record; False when the run should stop as if it
        crashed (stored, not committed)."""
        name = topic.removeprefix(self.prefix)
        try:
            record = json.loads(value or b"null")
            self.validators[name].validate(record)
        except (ValueError, jsonschema.ValidationError) as exc:
            print(f"skipped {topic}@{offset}: {exc}", file=sys.stderr)
            return True
        self.apply(name, record)
        self.handled += 1
        return self.crash_after is None or self.handled < self.crash_after

    def apply(self, topic: str, record: dict[str, Any]) -> bool:
        """Act on a record unless it or a later revision of it was applied; True when it was
        acted on."""
        key = f"{topic}:{identity(topic, record)}"
        revision = record.get("revision", 0)
        with self.db:  # one transaction: the identity and the effect, or neither
            row = self.db.execute("SELECT revision FROM applied WHERE id = ?", (key,)).fetchone()
            if row is not None and row[0] >= revision:
                return False
            self.db.execute("INSERT OR REPLACE INTO applied VALUES (?, ?)", (key, revision))
            effect = {"topic": topic, "id": key, "revision": revision}
            if record.get("withdrawn"):
                effect["withdrawn"] = True  # a signal a revised bar no longer fires: undo it
            with self.out.open("a") as out:  # the application's effect
                out.write(json.dumps(effect) + "\n")
        return True


def arguments(description: str) -> argparse.Namespace:
    """The command line both examples take."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--prefix", default="", help="the deployment's topic prefix")
    parser.add_argument("--group", default="analytics-subscriber")
    parser.add_argument("--state", type=Path, default=Path("subscriber.sqlite"))
    parser.add_argument("--out", type=Path, default=Path("analytics.jsonl"))
    parser.add_argument(
        "--session-timeout-s",
        type=float,
        default=10.0,
        help="how long the group waits for a silent member (a crashed one) before its "
        "partitions move to the others",
    )
    parser.add_argument(
        "--exit-when-idle", type=float, default=None, help="stop after this many idle seconds"
    )
    parser.add_argument("--crash-after", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args()
