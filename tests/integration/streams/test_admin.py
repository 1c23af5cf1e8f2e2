"""The pipeline's topics, created before anything uses them: with the configured partition
count and their own settings, and refused when an existing one disagrees."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from marketpulse.settings import Settings
from marketpulse.streams.admin import TopicMismatch, ensure_topics, topic_names
from tests.kafka_helpers import unique

pytestmark = [pytest.mark.integration]


async def _retention(settings: Settings, topic: str) -> str | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
    finally:
        await admin.close()
    (resource,) = response.resources
    entries = {entry[0]: entry[1] for entry in resource[4]}
    return entries.get("retention.ms")


async def test_topics_are_made_once_with_their_partitions_and_settings(services: Settings) -> None:
    settings = services.model_copy(
        update={"topic_prefix": unique("admin") + ".", "topic_partitions": 3,
                "forming_retention_ms": 120_000}
    )  # fmt: skip
    made = await ensure_topics(settings)
    assert sorted(made) == sorted(topic_names(settings))
    assert settings.topic("analytics.forming") in made
    assert await ensure_topics(settings) == []  # nothing missing the second time
    assert await _retention(settings, settings.topic("analytics.forming")) == "120000"
    assert await _retention(settings, settings.topic("analytics.indicators")) != "120000"
    with pytest.raises(TopicMismatch, match="MARKETPULSE_TOPIC_PARTITIONS is 2"):
        await ensure_topics(settings.model_copy(update={"topic_partitions": 2}))
