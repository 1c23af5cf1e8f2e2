"""How payloads travel: raw bytes on the wire, validated by our pydantic schemas on decode.

Faust's own json codec is bypassed; decoding frames with orjson/pydantic directly was about 30%
faster and gives validation one home (ARCHITECTURE.md).
"""

from __future__ import annotations

from faust.types import AppT, TopicT


def bytes_topic(app: AppT, name: str, partitions: int) -> TopicT:
    """Declare a topic whose keys and values Faust passes through untouched."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )
