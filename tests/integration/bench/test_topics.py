"""The benchmarks' own topics are dropped on the broker once a benchmark is done with them:
the pipeline's and a worker's changelogs under the prefix, and nothing else."""

from __future__ import annotations

from types import ModuleType

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from marketpulse.settings import Settings
from marketpulse.streams.admin import topic_names
from tests.bench_scripts import load
from tests.kafka_helpers import create_topics, unique


def _topics_module() -> ModuleType:
    return load("topics")


async def _listed(settings: Settings) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_a_benchmarks_topics_go_with_its_block_and_no_others(services: Settings) -> None:
    topics = _topics_module()
    prefix = f"{unique('benchtopics')}."
    settings = services.model_copy(update={"topic_prefix": prefix, "worker_id": prefix + "w"})
    neighbour = f"{unique('benchneighbour')}.market.raw"  # shares no prefix: must stay
    changelog = f"{settings.worker_id}-symbols-changelog"  # as a worker of that id names it
    await create_topics(settings, [neighbour])
    async with topics.own_topics(settings) as inside:
        assert inside is settings
        await create_topics(settings, [changelog])
        during = await _listed(settings)
        assert set(topic_names(settings)) | {changelog} <= during
    after = await _listed(settings)
    assert not {name for name in after if name.startswith(prefix)}
    assert neighbour in after
    await topics.drop_topics(services.model_copy(update={"topic_prefix": neighbour}))
    assert neighbour not in await _listed(settings)


async def test_no_prefix_is_refused_rather_than_dropping_every_topic(services: Settings) -> None:
    topics = _topics_module()
    with pytest.raises(ValueError, match="no topic prefix"):
        await topics.drop_topics(services.model_copy(update={"topic_prefix": ""}))
