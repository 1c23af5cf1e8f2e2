"""Records near and over the size limit through the real broker and worker: a frame just under
it is accepted whole (the worker can send it on), one over it and a malformed one whose quoted
text would not fit are dead-lettered, cut to fit, and the worker goes on to the next frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from marketpulse.clock import SystemClock
from marketpulse.settings import Settings
from tests.e2e.pipeline import Pipeline, S, decoded, one_partition

pytestmark = [pytest.mark.e2e]

LIMIT = 1 << 20  # the default MARKETPULSE_KAFKA_MAX_MESSAGE_BYTES


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(services, tmp_path, '["1m"]', '["sma_3"]') as p:
        yield p


def _frame(start: int, trades: int, received: int) -> bytes:
    trade = {"kind": "trade", "symbol": "BIG", "size": 1.0}
    events = [{**trade, "ts": start + i * 1000, "price": 100.0 + i % 7} for i in range(trades)]
    return orjson.dumps({"source": "big", "received_ts": received, "events": events})


def _fill(start: int, size: int, received: int) -> bytes:
    """The largest frame of such trades that is at most ``size`` bytes."""
    one = len(_frame(start, 1, received))
    trades = size // (len(_frame(start, 2, received)) - one)
    while len(_frame(start, trades, received)) > size:
        trades -= 1
    return _frame(start, trades, received)


async def test_records_near_and_over_the_limit(pipeline: Pipeline) -> None:
    start = (SystemClock().now_ns() // S - 600) * S
    under = _fill(start, LIMIT - 1000, 1)  # over Faust's own default limit of 1,000,000
    over = _fill(start + 60 * S, LIMIT + 1000, 2)
    quoted = b'{"source": "' + b'\\"' * (LIMIT // 2 - 100)  # twice as long once quoted again
    after = _frame(start + 120 * S, 1, 3)
    assert 1_000_000 < len(under) <= LIMIT < len(over)
    assert LIMIT // 2 < len(quoted) < LIMIT
    pipeline.start_worker()
    producer = AIOKafkaProducer(
        bootstrap_servers=pipeline.settings.bootstrap_servers(), max_request_size=4 * LIMIT
    )
    await producer.start()
    try:
        for value in (under, over, quoted, after):
            await (await producer.send(pipeline.prefix + "market.raw", value=value, key=b"BIG"))
    finally:
        await producer.stop()

    clean = await pipeline.read("market.clean", 2)
    assert [r.value for r in clean] == [under, after]  # the frames as they came, whole
    dead = decoded(await pipeline.read("market.deadletter", 2))
    assert [(d["reason"], d["offset"], d["truncated"]) for d in dead] == [
        ("too_large", 1, True),
        ("malformed", 2, True),
    ]
    for letter, original in zip(dead, (over, quoted), strict=True):
        kept = str(letter["payload"])
        assert 0 < len(kept) < len(original)
        assert original.decode().startswith(kept)
        assert f"of {len(original):,} characters" in str(letter["detail"])
    assert "over MARKETPULSE_KAFKA_MAX_MESSAGE_BYTES" in str(dead[0]["detail"])
