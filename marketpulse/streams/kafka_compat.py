"""Adjustments to aiokafka and Faust, applied once, before the app starts.

Two kinds live here, both measured against Tansu 0.6.0 with aiokafka 0.14 and faust 0.15
(docs/architecture.md):

* Always: the consumer's fetch wait. Faust hard-codes ``fetch_max_wait_ms=1500`` where it builds
  the aiokafka consumer, which sets quote-to-bar latency; we make it a setting.
* With ``MARKETPULSE_KAFKA_TANSU_COMPAT``: Tansu answers ListOffsets(LATEST) with the base offset
  of the last record batch + 1 instead of the high watermark, so end offsets are corrected by a
  short fetch from the reported offset minus one; and Tansu rejects InitProducerId v0 (the only
  version aiokafka sends), so v3 is offered too. Against real Kafka both are no-ops in effect:
  its end offsets already equal the high watermark, and it negotiates v3 just as well.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

from aiokafka.consumer.fetcher import Fetcher
from aiokafka.protocol.api import RequestStruct, Response
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.transaction import InitProducerIdRequest, InitProducerIdRequest_v0
from aiokafka.protocol.types import CompactString, Int16, Int32, Int64, Schema, TaggedFields
from aiokafka.structs import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka

# Tansu answers a fetch with max_wait 0 with no partitions at all, so wait a little; the record
# at offset-1 exists, so the answer comes at once.
_FETCH_WAIT_MS = 100

_state: dict[str, int | None] = {"fetch_max_wait_ms": None}


class InitProducerIdResponse_v3(Response):  # type: ignore[misc]
    """The flexible (tagged-field) InitProducerId response."""

    API_KEY = 22
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("tags", TaggedFields),
    )


class InitProducerIdRequest_v3(RequestStruct):  # type: ignore[misc]
    """InitProducerId v3: flexible encoding, plus the current producer id and epoch (-1: none)."""

    FLEXIBLE_VERSION = True
    API_KEY = 22
    API_VERSION = 3
    RESPONSE_TYPE = InitProducerIdResponse_v3
    SCHEMA = Schema(
        ("transactional_id", CompactString("utf-8")),
        ("transaction_timeout_ms", Int32),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("tags", TaggedFields),
    )


def _build_init_producer_id(self: InitProducerIdRequest, struct_class: type[Any]) -> Any:
    if struct_class is InitProducerIdRequest_v3:
        return struct_class(self._transactional_id, self._transaction_timeout_ms, -1, -1, {})
    return struct_class(self._transactional_id, self._transaction_timeout_ms)


_ORIGINAL_BUILD = InitProducerIdRequest.build
_original_end_offsets = Fetcher.end_offsets
_original_worker_consumer = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
_original_client_consumer = faust_aiokafka.AIOKafkaConsumerThread._create_client_consumer


async def _corrected_end_offsets(
    self: Fetcher, partitions: Iterable[TopicPartition], timeout_ms: int
) -> dict[TopicPartition, int]:
    """Return end offsets, raised to the high watermark a fetch reports."""
    offsets: dict[TopicPartition, int] = await _original_end_offsets(self, partitions, timeout_ms)
    by_node: dict[int, dict[str, list[tuple[int, int, int]]]] = collections.defaultdict(
        lambda: collections.defaultdict(list)
    )
    for tp, offset in offsets.items():
        if offset > 0:
            node = self._client.cluster.leader_for_partition(tp)
            by_node[node][tp.topic].append((tp.partition, offset - 1, 1))
    for node, topics in by_node.items():
        request = FetchRequest(_FETCH_WAIT_MS, 1, 1, self._isolation_level, list(topics.items()))
        response = await self._client.send(node, request)
        for topic, answers in response.topics:
            for partition, error_code, highwater, *_rest in answers:
                tp = TopicPartition(topic, partition)
                if error_code == 0 and highwater > offsets[tp]:
                    offsets[tp] = highwater
    return offsets


def _with_fetch_wait(consumer: Any) -> Any:
    wait = _state["fetch_max_wait_ms"]
    if wait is not None:
        # Read by the Fetcher, which aiokafka builds later, in start().
        consumer._fetch_max_wait_ms = wait
    return consumer


def _worker_consumer(self: Any, transport: Any) -> Any:
    return _with_fetch_wait(_original_worker_consumer(self, transport))


def _client_consumer(self: Any, transport: Any) -> Any:
    return _with_fetch_wait(_original_client_consumer(self, transport))


def apply(*, fetch_max_wait_ms: int, tansu: bool) -> None:
    """Install the adjustments; calling again with other values replaces them."""
    _state["fetch_max_wait_ms"] = fetch_max_wait_ms
    thread_class = faust_aiokafka.AIOKafkaConsumerThread
    thread_class._create_worker_consumer = _worker_consumer  # type: ignore[method-assign]
    thread_class._create_client_consumer = _client_consumer  # type: ignore[method-assign]
    if tansu:
        Fetcher.end_offsets = _corrected_end_offsets
        InitProducerIdRequest._CLASSES = (InitProducerIdRequest_v0, InitProducerIdRequest_v3)
        InitProducerIdRequest.build = _build_init_producer_id
    else:
        Fetcher.end_offsets = _original_end_offsets
        InitProducerIdRequest._CLASSES = (InitProducerIdRequest_v0,)
        InitProducerIdRequest.build = _ORIGINAL_BUILD
