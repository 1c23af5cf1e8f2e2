"""The changelog record format of a flush (marketpulse.tables.checkpoints)."""

from __future__ import annotations

import hashlib
from importlib.resources import files

import orjson
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.ticks import _SYMBOL
from marketpulse.settings import Settings
from marketpulse.tables import checkpoints
from tests.unit.analytics.test_series import walk

DICTIONARY_1 = "2b4cc80d7a2771e38c26fa7180c8857f722506b29d32f69cdbaf82a1b6ca5dfe"  # keyed states
DICTIONARY_2 = "932ffd748e1b61c5b6a6f06eb85636d8bcf533737ac18f6467f6699b13508b7a"

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
    # once the flush is whole, the previous state is no longer needed
    assert checkpoints.current_only(record) == checkpoints.pack(flush, partition, current, None)


@given(st.binary(max_size=4096))
def test_a_state_comes_back_from_its_compressed_form(state: bytes) -> None:
    assert checkpoints.expand(checkpoints.compress(b"{" + state)) == b"{" + state


def test_a_state_compresses_to_a_fraction_and_an_uncompressed_one_still_reads() -> None:
    state = orjson.dumps({"window": [100 + i / 7 for i in range(200)], "count": 200})
    part = checkpoints.compress(state)
    assert len(part) < len(state) / 2
    # a record of a worker that wrote its states uncompressed holds the JSON itself
    assert checkpoints.expand(state) == state
    record = checkpoints.pack(3, 0, state, part)
    assert checkpoints.expand(checkpoints.resolve(record, 3) or b"") == state
    assert checkpoints.expand(checkpoints.resolve(record, 2) or b"") == state


def test_a_state_compressed_without_the_dictionary_still_reads() -> None:
    state = orjson.dumps({"window": [100 + i / 7 for i in range(200)], "count": 200})
    plain = zstandard.ZstdCompressor(level=1).compress(state)  # as workers wrote them before
    assert checkpoints.expand(plain) == state
    assert checkpoints.compress(state) != plain
    with pytest.raises(checkpoints.CorruptRecord):
        checkpoints.expand(b"\x01" + plain[1:])  # the dictionary's mark on a damaged frame


def test_the_dictionary_shrinks_a_series_state_by_a_fifth_or_more() -> None:
    """A fifth: a state by position has no names for the dictionary to find, only its
    nesting, its layout and the windows' sizes (a quarter when states were keyed)."""
    settings = Settings()
    series = SeriesState.new(settings.indicators, settings.detector_config())
    for bar in walk(300, seed=3):  # prices off any tick grid: the dictionary's hardest case
        series.advance(bar)
    state = series.to_bytes()
    with_dictionary = checkpoints.compress(state)
    assert checkpoints.expand(with_dictionary) == state
    assert len(with_dictionary) < 0.8 * len(zstandard.ZstdCompressor(level=1).compress(state))


@pytest.mark.parametrize(("number", "digest"), [(1, DICTIONARY_1), (2, DICTIONARY_2)])
def test_each_dictionary_is_the_one_the_records_were_written_with(number: int, digest: str) -> None:
    """Records compressed with one decode only with these very bytes: a dictionary of other
    content is a new one, with a number of its own."""
    content = files("marketpulse.tables").joinpath(f"state-dictionary-{number}.jsonl").read_bytes()
    assert hashlib.sha256(content).hexdigest() == digest


def test_markers_count_flushes_and_never_look_like_a_state_key() -> None:
    assert checkpoints.flushed(None) == 0
    assert checkpoints.flushed(checkpoints.marker(41)) == 41
    key = checkpoints.marker_key(3)
    assert checkpoints.is_marker(key)
    assert key != checkpoints.marker_key(30)
    assert not checkpoints.is_marker(b"AAPL")
    assert not checkpoints.is_marker(b"AAPL|1m")
    assert _SYMBOL.fullmatch(key.decode()) is None


def test_a_record_this_format_did_not_write_is_refused_as_such() -> None:
    for short in (b"", b"garbage", b"\x00" * 15):  # shorter than the header
        with pytest.raises(checkpoints.CorruptRecord, match="shorter than its header"):
            checkpoints.partition_of(short)
        with pytest.raises(checkpoints.CorruptRecord, match="shorter than its header"):
            checkpoints.resolve(short, 0)
    with pytest.raises(checkpoints.CorruptRecord, match="neither JSON nor Zstandard"):
        checkpoints.expand(b"\xff" * 40)
