"""A downstream subscriber of marketpulse's analytics topics, with aiokafka (asyncio).

    python examples/subscribe_aiokafka.py --bootstrap 127.0.0.1:9092 --group my-app \\
        --state my-app.sqlite --out signals.jsonl

It reads ``analytics.indicators`` and ``analytics.signals``, checks each record against the
published JSON Schema and hands it to the application exactly once (``application.py`` says
how); offsets are committed only after a batch is stored. It needs aiokafka and jsonschema.
"""

from __future__ import annotations

import asyncio
import sys

from aiokafka import AIOKafkaConsumer
from application import CRASHED, POLL_S, Application, arguments


async def subscribe(app: Application, bootstrap: str, group: str, session_s: float) -> int:
    consumer = AIOKafkaConsumer(
        *app.topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,  # commit only what is stored
        auto_offset_reset="earliest",
        session_timeout_ms=int(session_s * 1000),
        heartbeat_interval_ms=int(session_s * 1000 / 3),
    )
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=int(POLL_S * 1000), max_records=100)
            if not app.polled(len(batches), POLL_S, bool(consumer.assignment())):
                return 0
            if not batches:
                continue
            for records in batches.values():
                for message in records:
                    if not app.handle(message.topic, message.offset, message.value):
                        return CRASHED
            await consumer.commit()
    finally:
        await consumer.stop()


def main() -> int:
    args = arguments(__doc__.split("\n\n")[0])
    return asyncio.run(
        subscribe(Application(args), args.bootstrap, args.group, args.session_timeout_s)
    )


if __name__ == "__main__":
    sys.exit(main())
