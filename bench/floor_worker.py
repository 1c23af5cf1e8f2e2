"""A Faust worker on ``market.raw`` that does everything a worker does around the engine, and none
of the engine: ``bench/faust_floor.py`` runs it.

    python -P bench/floor_worker.py RECORDS FRAME_SIZE [FAUST_SETTINGS]

The app is the worker's own (:func:`marketpulse.streams.faust_app.create_app`: the same
consumer, producer, batches, commit that waits for delivery), with one agent over
``market.raw``'s events. For each frame it appends the records the engine gave that frame
(``RECORDS``: a pickle, per key of ``market.raw``, a list per frame of (topic, partition, key,
value), the values already encoded) to the worker's batches, as the outbox does, and counts the
frame's events on ``marketpulse_events_in_total`` (the benchmark's clock). An empty list per frame
makes it a consumer and nothing more. It writes no state: the tables' records come on top of
this floor, as the engine does. ``FAUST_SETTINGS``: a JSON object of Faust settings to set on the
app (``{"broker_check_crcs": false}``), to try one against the defaults.

Run with ``-P`` and no path of the benchmarks': it imports the package only (the worker's app,
not its agents).
"""

from __future__ import annotations

import json
import pickle
import sys
from collections import defaultdict
from pathlib import Path


def main() -> None:
    import mode.loop

    mode.loop.use("uvloop")  # as the worker does, before any event loop exists
    from faust import StreamT
    from prometheus_client import start_http_server

    from marketpulse.gc_policy import collect_fully_every
    from marketpulse.metrics import EVENTS_IN
    from marketpulse.settings import get_settings
    from marketpulse.streams import delivery
    from marketpulse.streams.batches import Batches
    from marketpulse.streams.faust_app import create_app
    from marketpulse.streams.topics import declare
    from marketpulse.tables.flush import FlushOnCommit
    from marketpulse.tables.journal import Journal

    settings = get_settings()
    collect_fully_every(settings.worker_gc_full_every)
    # written by the benchmark that started this process
    recorded: dict[bytes, list[list[tuple[str, int, bytes | None, bytes]]]] = pickle.loads(  # noqa: S301
        Path(sys.argv[1]).read_bytes()
    )
    app = create_app(settings)
    if len(sys.argv) > 3:  # Faust settings to try, as JSON
        for name, value in json.loads(sys.argv[3]).items():
            setattr(app.conf, name, value)
    topics = declare(app, settings)
    batches = Batches(
        lambda: app.producer._ensure_producer(),  # type: ignore[attr-defined]
        settings.kafka_producer_linger_ms / 1000,
        delivery.guard,
    )
    # no tables: the commit hands over the batches only
    flush = FlushOnCommit(batches.soon, Journal())
    app.sensors.add(flush)
    app.sensors.add(delivery.guard)
    delivery.apply(batches.delivered, flush)
    taken: defaultdict[bytes, int] = defaultdict(int)
    events_in = EVENTS_IN.labels(source="floor")
    frame_size = int(sys.argv[2])

    @app.agent(topics.raw)
    async def floor(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            key = event.key
            frame = taken[key]
            taken[key] = frame + 1
            for topic, partition, record_key, value in recorded[key][frame]:
                if batches.append(topic, partition, record_key, value):
                    await batches.hand_over()
            events_in.inc(frame_size)

    start_http_server(settings.worker_metrics_port, settings.worker_metrics_host)
    sys.argv = [sys.argv[0], "worker", "--loglevel", "info", "--without-web"]
    app.main()


if __name__ == "__main__":
    main()
