"""How payloads travel: raw bytes on the wire, validated by our pydantic schemas on decode.

Faust's own json codec is bypassed; decoding frames with orjson/pydantic directly was about 30%
faster and gives validation one home (docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

from faust.types import AppT, TopicT

from marketpulse.tables import store


def bytes_topic(app: AppT, name: str, partitions: int) -> TopicT:
    """Declare a topic whose keys and values Faust passes untouched."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )


def bytes_table(app: AppT, name: str, partitions: int) -> Any:
    """Declare a table of bytes keys and values (our own orjson-encoded state records), held in
    memory and read back from its changelog in bulk (:mod:`marketpulse.tables.store`)."""
    table: Any = app.Table(
        name,
        default=None,
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        store=store.URL,
    )
    # Faust picks json from the types; the store and changelog read these lazily, at start.
    table.key_serializer = "raw"
    table.value_serializer = "raw"
    return table
