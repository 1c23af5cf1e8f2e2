"""Consumer lag: how many records each consumer group has yet to process, from its committed
offsets and the partitions' end offsets.

Committed offsets are read through a consumer of the group that never joins it (no
subscription), not the admin client: Tansu answers the admin's OffsetFetch in a version
aiokafka's admin cannot decode, while the consumer's request works on Tansu and Kafka alike.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from marketpulse.settings import Settings
from marketpulse.streams import kafka_compat
from marketpulse.streams.admin import partitions_of, topic_names


async def group_lag(settings: Settings, groups: list[str]) -> dict[str, int | None]:
    """Records behind per group, over the pipeline's topics (None: nothing committed yet)."""
    ends = await partition_ends(settings, topic_names(settings))
    partitions = list(ends)
    servers = settings.bootstrap_servers()
    lags = await asyncio.gather(*(_lag(servers, g, partitions, ends) for g in groups))
    return dict(zip(groups, lags, strict=True))


async def partition_ends(settings: Settings, topics: list[str]) -> dict[TopicPartition, int]:
    """Every partition of ``topics`` and the offset its next record will take."""
    kafka_compat.apply(
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms, tansu=settings.kafka_tansu_compat
    )
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers(),
        client_id="marketpulse-lag",
        request_timeout_ms=3000,
    )
    try:  # start inside: a caller's deadline can cancel it half-connected
        await reader.start()
        partitions = await partitions_of(reader, topics)
        return dict(await reader.end_offsets(partitions))
    finally:
        await reader.stop()


async def committed_offsets(
    servers: str, group: str, partitions: list[TopicPartition]
) -> list[int | None]:
    """The offset ``group`` committed on each of ``partitions`` (None: none), read by a member
    that never joins the group."""
    member = AIOKafkaConsumer(
        bootstrap_servers=servers,
        group_id=group,
        client_id="marketpulse-lag",
        enable_auto_commit=False,
        request_timeout_ms=3000,
    )
    try:
        await member.start()
        return list(await asyncio.gather(*(member.committed(tp) for tp in partitions)))
    finally:
        await member.stop()


async def _lag(
    servers: str, group: str, partitions: list[TopicPartition], ends: dict[TopicPartition, int]
) -> int | None:
    committed = await committed_offsets(servers, group, partitions)
    behind = [
        ends[tp] - offset
        for tp, offset in zip(partitions, committed, strict=True)
        if offset is not None
    ]
    return sum(max(0, b) for b in behind) if behind else None
