"""The topics a benchmark makes for itself, and their removal. The local broker keeps every
topic in memory: the copies of the frames, the workers' outputs and their tables' changelogs
of one ``make bench`` come to several gigabytes, and left behind, a few runs were enough for
the kernel to kill the broker for want of memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka.admin import AIOKafkaAdminClient

from marketpulse.settings import Settings
from marketpulse.streams.admin import ensure_topics


async def drop_topics(settings: Settings) -> None:
    """Delete every topic under the settings' prefix: the pipeline's, and whatever a worker
    with that prefix made beside them (its tables' changelogs carry its id, which starts with
    the prefix)."""
    prefix = settings.topic_prefix
    if not prefix:
        raise ValueError("no topic prefix: that would drop every topic on the broker")
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


@asynccontextmanager
async def own_topics(settings: Settings) -> AsyncIterator[Settings]:
    """The pipeline's topics under the settings' prefix for the length of the block, then
    dropped with everything else under it."""
    await ensure_topics(settings)
    try:
        yield settings
    finally:
        await drop_topics(settings)
