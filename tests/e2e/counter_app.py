"""A minimal stateful Faust app for testing the broker adjustments, run as a subprocess.

Each message on ``COUNTER_IN`` adds one to ``counts[key]`` (written back, so the changelog has
it) and reports ``{"key", "count", "pid"}`` on ``COUNTER_OUT``. After a restart or a failover the
next report for a key must continue from the exact count, which shows the table was recovered.

Delivery is at-least-once: a worker killed before committing has its messages delivered again to
the next owner, whose recovered table already holds their effect. So the table keeps, per key,
the offset of the last message applied, and a message at or below it is skipped. The pipeline's
own agents keep state the same way.
"""

from __future__ import annotations

import os

import orjson

from marketpulse.settings import Settings
from marketpulse.streams.codecs import bytes_topic
from marketpulse.streams.faust_app import create_app

app = create_app(Settings())
counts = app.Table("counts", default=lambda: [0, -1], partitions=4)


source = bytes_topic(app, os.environ["COUNTER_IN"], partitions=4)
sink = bytes_topic(app, os.environ["COUNTER_OUT"], partitions=1)


@app.agent(source)
async def count(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        name = event.key.decode()
        count, last_offset = counts[name]
        if event.message.offset <= last_offset:
            continue  # redelivered after a failover; its effect is already in the table
        counts[name] = [count + 1, event.message.offset]
        await sink.send(
            key=event.key, value=orjson.dumps({"key": name, "count": count + 1, "pid": os.getpid()})
        )


if __name__ == "__main__":
    app.main()
