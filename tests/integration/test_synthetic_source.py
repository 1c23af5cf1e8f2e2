"""The synthetic source publishes what it says it publishes, through the real broker."""

from __future__ import annotations

import pytest
from aiokafka.structs import ConsumerRecord

from marketpulse.clock import SystemClock
from marketpulse.schemas.events import Frame
from marketpulse.settings import Settings
from marketpulse.streams.sources.publisher import run_synthetic
from marketpulse.streams.sources.synthetic import SyntheticMarket
from tests.kafka_helpers import consume_until, unique

pytestmark = [pytest.mark.integration]


async def test_published_frames_arrive_keyed_by_symbol(services: Settings) -> None:
    symbols = [unique("SYN").upper().replace("-", "") for _ in range(3)]
    market = SyntheticMarket(symbols, seed=11)
    settings = services.model_copy(update={"topic_prefix": unique("syn") + "."})
    published = await run_synthetic(
        settings, market, SystemClock(), rate=600, frame_size=10, duration_s=0.5,
        report=lambda _line: None,
    )  # fmt: skip
    assert published > 0
    keys = {s.encode() for s in symbols}

    def ours(records: list[ConsumerRecord[bytes, bytes]]) -> list[ConsumerRecord[bytes, bytes]]:
        return [r for r in records if r.key in keys]

    def all_events(records: list[ConsumerRecord[bytes, bytes]]) -> int:
        return sum(len(Frame.model_validate_json(r.value).events) for r in ours(records))

    records = ours(
        await consume_until(
            settings, [settings.topic("market.raw")], lambda rs: all_events(rs) >= published
        )
    )
    assert all_events(records) == published
    for record in records:
        frame = Frame.model_validate_json(record.value)
        assert {e.symbol for e in frame.events} == {record.key.decode()}
