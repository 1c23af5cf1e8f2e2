"""Create the pipeline's topics with the configured partition count before anything uses them.

Faust creates only its own internal topics (changelogs); a source topic that a producer or a
metadata request creates first gets the broker's default partition count, and a table's
changelog must have as many partitions as the topic that feeds it.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from marketpulse.errors import MarketPulseError
from marketpulse.settings import Settings
from marketpulse.streams.topics import BARS, FORMING, SPECS, bars_topic_name


class TopicMismatch(MarketPulseError):
    """A topic exists with another partition count than the settings say."""


def topic_names(settings: Settings) -> list[str]:
    """Every topic of the pipeline, in the settings' namespace."""
    names = [spec.name for spec in SPECS if spec is not BARS]
    names += [bars_topic_name(g) for g in settings.granularities]
    return [settings.topic(name) for name in names]


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """The topics created with settings of their own: ``analytics.forming`` keeps its records
    briefly, since each is superseded within seconds by the next or by the closed bar."""
    retention = {"retention.ms": str(settings.forming_retention_ms)}
    return {settings.topic(FORMING.name): retention}


async def partitions_of(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of ``topics``, as a started consumer's fresh metadata has them."""
    await consumer.topics()
    return [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]


async def ensure_topics(settings: Settings) -> list[str]:
    """Create missing topics (with their settings: :func:`topic_configs`); refuse existing ones
    with the wrong partition count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        wanted = topic_names(settings)
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if missing:
            configs = topic_configs(settings)
            await admin.create_topics(
                [
                    NewTopic(name, settings.topic_partitions, 1, topic_configs=configs.get(name))
                    for name in missing
                ]
            )
        present = [name for name in wanted if name in existing]
        if present:
            for topic in await admin.describe_topics(present):
                count = len(topic["partitions"])
                if count != settings.topic_partitions:
                    raise TopicMismatch(
                        f"topic {topic['topic']} has {count} partitions, but "
                        f"MARKETPULSE_TOPIC_PARTITIONS is {settings.topic_partitions}; use "
                        "the existing count or another MARKETPULSE_TOPIC_PREFIX"
                    )
        return missing
    finally:
        await admin.close()
