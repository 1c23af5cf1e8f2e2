"""The changelog record format of a flush (marketpulse.tables.checkpoints)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from marketpulse.analytics.ticks import _SYMBOL
from marketpulse.tables import checkpoints

states = st.binary(min_size=1, max_size=64)


@given(st.integers(1, 10**6), st.integers(0, 1000), states, st.none() | states)
def test_a_record_reads_as_its_state_once_its_flush_is_whole(
    flush: int, partition: int, current: bytes, previous: bytes | None
) -> None:
    record = checkpoints.pack(flush, partition, current, previous)
    assert checkpoints.partition_of(record) == partition
    assert checkpoints.resolve(record, flush) == current
    assert checkpoints.resolve(record, flush + 5) == current
    # the partition's marker is behind: the flush was cut short, so the state before it counts
    assert checkpoints.resolve(record, flush - 1) == previous


def test_markers_count_flushes_and_never_look_like_a_state_key() -> None:
    assert checkpoints.flushed(None) == 0
    assert checkpoints.flushed(checkpoints.marker(41)) == 41
    key = checkpoints.marker_key(3)
    assert checkpoints.is_marker(key)
    assert key != checkpoints.marker_key(30)
    assert not checkpoints.is_marker(b"AAPL")
    assert not checkpoints.is_marker(b"AAPL|1m")
    assert _SYMBOL.fullmatch(key.decode()) is None
