"""A keyed record's partition, worked out once per key, is the producer's own choice."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from marketpulse.analytics.step_io import key_of_series
from marketpulse.streams.topics import partition_of


@given(st.binary(max_size=40), st.integers(min_value=1, max_value=64))
def test_a_key_goes_where_the_default_partitioner_sends_it(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert partition_of(key, partitions) == DefaultPartitioner()(key, every, every)


def test_series_keys_spread_over_every_partition() -> None:
    keys = [key_of_series(f"S{i:03d}", g) for i in range(50) for g in ("1m", "5m", "1h", "1d")]
    assert {partition_of(key, 4) for key in keys} == set(range(4))
