"""A downstream subscriber of marketpulse's analytics topics, with confluent-kafka (librdkafka).

    python examples/subscribe_confluent.py --bootstrap 127.0.0.1:9092 --group my-app \\
        --state my-app.sqlite --out signals.jsonl

It reads ``analytics.indicators`` and ``analytics.signals``, checks each record against the
published JSON Schema and hands it to the application exactly once (``application.py`` says
how); offsets are committed, synchronously, only after a batch is stored. It needs
confluent-kafka and jsonschema.
"""

from __future__ import annotations

import sys

from application import CRASHED, POLL_S, Application, arguments
from confluent_kafka import Consumer, KafkaException


def subscribe(app: Application, bootstrap: str, group: str, session_s: float) -> int:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,  # commit only what is stored
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            # 10 s by default (aiokafka's) rather than librdkafka's 45 s: a crashed member's
            # partitions move sooner, and the broker settles a join sooner
            "session.timeout.ms": int(session_s * 1000),
            "heartbeat.interval.ms": int(session_s * 1000 / 3),
        }
    )
    consumer.subscribe(app.topics)
    try:
        while True:
            messages = consumer.consume(num_messages=100, timeout=POLL_S)
            if not app.polled(len(messages), POLL_S, bool(consumer.assignment())):
                return 0
            if not messages:
                continue
            done = 0
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.fatal():
                        raise KafkaException(error)
                    # librdkafka retries the rest itself (a topic not created yet, a broker
                    # away for a moment)
                    print(f"consumer: {error.str()}", file=sys.stderr)
                    continue
                if not app.handle(message.topic(), message.offset(), message.value()):
                    return CRASHED
                consumer.store_offsets(message)
                done += 1
            if done:
                consumer.commit(asynchronous=False)
    finally:
        consumer.close()


def main() -> int:
    args = arguments(__doc__.split("\n\n")[0])
    return subscribe(Application(args), args.bootstrap, args.group, args.session_timeout_s)


if __name__ == "__main__":
    sys.exit(main())
