"""The live states in front of a table: what a worker taking over a partition decodes, and how
often (the whole write and read-back path, on the broker, is in tests/e2e/test_state_flush.py)."""

from __future__ import annotations

import gc

import pytest
from prometheus_client import REGISTRY

from marketpulse.tables import checkpoints
from marketpulse.tables.checkpoints import CorruptRecord, marker_key
from marketpulse.tables.live_states import LiveStates
from tests.table_helpers import Table


def unread(topic: str, partition: int, key: bytes, value: bytes) -> None:
    """Where a changelog record would go to the broker."""


class Decoder:
    """Decodes a state (its bytes as text), counting each decode; refuses ``bad``."""

    def __init__(self) -> None:
        self.decoded: list[bytes] = []

    def __call__(self, data: bytes) -> str:
        self.decoded.append(data)
        if data == b"bad":
            raise ValueError("not a state")
        return data.decode()


def written(states: dict[bytes, bytes]) -> Table:
    """A table holding ``states`` as a flush wrote them, on partition 0."""
    table = Table()
    writer = LiveStates(table, Decoder(), str.encode, unread)
    for key, encoded in states.items():
        writer.put(key, encoded.decode(), 0)
    writer.flush()
    writer.seal()
    return table


class Changelog:
    """The records a flush sends, in order, and what a worker taking over reads of them (each
    key's last record, as :mod:`marketpulse.tables.store` folds them)."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    def __call__(self, topic: str, partition: int, key: bytes, value: bytes) -> None:
        self.sent.append((key, value))

    def read(self) -> dict[bytes, str]:
        table = Table()
        table.data = dict(self.sent)
        return dict(LiveStates(table, Decoder(), str.encode, unread).stored())


def test_a_recovered_state_is_decoded_once_for_the_rebuild_and_the_steps(
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = written({b"A": b"a1", b"B": b"b1", b"C": b"bad"})
    decode = Decoder()
    states = LiveStates(table, decode, str.encode, unread)  # a worker taking the partition over
    assert dict(states.stored()) == {b"A": "a1", b"B": "b1"}  # the bad one left out, logged
    assert [r.getMessage() for r in caplog.records] == [
        "series-state: the state of b'C' does not decode"
    ]
    assert [states.get(b"A"), states.get(b"B")] == ["a1", "b1"]  # each key's first step
    assert sorted(decode.decoded) == [b"a1", b"b1", b"bad"]  # once each
    with pytest.raises(ValueError, match="not a state"):
        states.get(b"C")  # its key's own step fails on it


def test_a_state_read_from_the_table_is_frozen_under_the_freezing_policy(freezing: None) -> None:
    """A recovery decodes every state at its key's first read: out of the collector's sight
    from then on (marketpulse.gc_policy.long_lived), where a state put by a step is not."""
    states = LiveStates(written({b"A": b"a1"}), lambda data: [data.decode()], repr, unread)
    read = states.get(b"A")
    states.put(b"B", ["b1"], 0)
    in_sight = {id(o) for o in gc.get_objects()}
    assert read == ["a1"]
    assert id(read) not in in_sight
    assert id(states.get(b"B")) in in_sight


def test_a_revert_goes_back_to_the_last_checkpoint_not_to_a_step_that_failed() -> None:
    states = LiveStates(written({b"A": b"a1"}), Decoder(), str.encode, unread)
    states.put(b"A", "a2", 0)  # whole steps, not flushed yet
    states.put(b"B", "b1", 0)
    states.revert()  # the next step failed half-way, with no checkpoint since: the table's
    assert dict(states.stored()) == {b"A": "a1"}
    states.put(b"A", "a2", 0)
    states.put(b"B", "b1", 0)
    states.checkpoint()
    states.put(b"A", "a3", 0)
    states.put(b"C", "c1", 0)
    states.revert()
    assert dict(states.stored()) == {b"A": "a2", b"B": "b1"}


class Counted:
    """A state the steps change in place, counting its encodings."""

    encoded = 0

    def __init__(self, value: str) -> None:
        self.value = value

    def encode(self) -> bytes:
        Counted.encoded += 1
        return self.value.encode()


def test_a_state_is_encoded_once_a_flush_as_the_last_step_left_it() -> None:
    changelog = Changelog()
    states: LiveStates[Counted] = LiveStates(Table(), Counted, Counted.encode, changelog)
    state = Counted("a1")
    Counted.encoded = 0
    for value in ("a1", "a2", "a3"):  # three steps change the one object
        state.value = value
        states.put(b"A", state, 0)
    assert Counted.encoded == 0  # a put encodes nothing
    states.flush()
    states.seal()
    assert Counted.encoded == 1
    assert changelog.read() == {b"A": "a3"}
    states.flush()  # no step since: nothing written
    assert Counted.encoded == 1


def test_a_key_of_none_in_the_table_is_no_state() -> None:
    table = written({b"A": b"a1"})
    table.data[None] = b"a record with no key"  # type: ignore[index]
    assert dict(LiveStates(table, Decoder(), str.encode, unread).stored()) == {b"A": "a1"}


@pytest.mark.parametrize("record", [b"", b"cut short", b"\xff" * 40])
def test_a_record_the_format_did_not_write_is_one_keys_failure_not_the_rebuilds(
    record: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    table = written({b"A": b"a1"})
    table.data[b"X"] = record  # another writer's, or cut short
    states = LiveStates(table, Decoder(), str.encode, unread)
    assert dict(states.stored()) == {b"A": "a1"}
    assert "series-state: the state of b'X' does not decode" in caplog.text
    with pytest.raises(CorruptRecord):
        states.get(b"X")  # its key's own steps fail on it (dead-lettered)


def test_a_flush_is_whole_on_the_changelog_only_once_sealed() -> None:
    changelog, table = Changelog(), Table()
    states = LiveStates(table, Decoder(), str.encode, changelog)
    states.put(b"A", "a1", 0)
    states.put(b"B", "b1", 0)
    states.flush()
    assert states.unsealed()
    assert changelog.read() == {}  # no marker yet: each record reads as the state before it
    states.seal()
    assert not states.unsealed()
    assert changelog.sent[-1][0] == checkpoints.marker_key(0)  # after the states
    assert changelog.read() == {b"A": "a1", b"B": "b1"}
    # in memory, a sealed record keeps no previous state (one read as cut short would be none)
    assert checkpoints.resolve(table.data[b"A"], 0) is None


def test_a_flush_made_again_before_its_seal_keeps_the_sealed_states_as_the_previous_ones() -> None:
    changelog = Changelog()
    states = LiveStates(Table(), Decoder(), str.encode, changelog)
    states.put(b"A", "a1", 0)
    states.put(b"B", "b1", 0)
    states.flush()
    states.seal()
    states.put(b"A", "a2", 0)
    states.flush()  # its seal never comes (a send before it failed)
    states.revert()
    assert states.get(b"A") == "a2"  # the worker itself reads what it flushed
    states.put(b"A", "a3", 0)
    states.put(b"C", "c1", 0)
    states.flush()  # the worker's last commit, stopping
    assert changelog.read() == {b"A": "a1", b"B": "b1"}  # not a2: a2 was never sealed
    states.seal()
    assert changelog.read() == {b"A": "a3", b"B": "b1", b"C": "c1"}


def test_a_reassignment_drops_the_seal_of_a_flush_the_worker_no_longer_owns() -> None:
    changelog = Changelog()
    states = LiveStates(Table(), Decoder(), str.encode, changelog)
    states.put(b"A", "a1", 0)
    states.flush()
    states.reset()
    assert not states.unsealed()
    states.seal()
    assert changelog.read() == {}


class Addressed:
    """Every record a flush or a seal sends, with its topic and partition."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, bytes, bytes]] = []

    def __call__(self, topic: str, partition: int, key: bytes, value: bytes) -> None:
        self.sent.append((topic, partition, key, value))


def test_each_record_goes_to_the_changelog_partition_of_its_key_numbered_by_its_flush() -> None:
    sent = Addressed()
    states = LiveStates(Table(), Decoder(), str.encode, sent)
    before = (
        REGISTRY.get_sample_value("marketpulse_state_records_total", {"table": "series-state"})
        or 0.0
    )
    states.put(b"A", "a1", 3)
    states.put(b"B", "b1", 5)
    states.flush()
    states.seal()
    topic = "w-series-state-changelog"
    assert [(t, p, k) for t, p, k, _ in sent.sent] == [
        (topic, 3, b"A"), (topic, 5, b"B"), (topic, 3, marker_key(3)), (topic, 5, marker_key(5)),
    ]  # fmt: skip
    records = {key: value for _, _, key, value in sent.sent}
    assert records[marker_key(3)] == checkpoints.marker(1)  # the partition's first flush
    assert checkpoints.resolve(records[b"A"], 1) is not None  # whole once flush 1 is
    assert checkpoints.resolve(records[b"A"], 0) is None  # and not before
    after = REGISTRY.get_sample_value("marketpulse_state_records_total", {"table": "series-state"})
    assert after == before + 2


def test_a_reassignment_counts_every_state_it_drops_once() -> None:
    states = LiveStates(Table(), Decoder(), str.encode, unread)
    states.put(b"A", "a1", 0)
    states.checkpoint()
    states.put(b"A", "a2", 0)  # encoded once and put again: one state
    states.put(b"B", "b1", 0)
    assert states.reset() == 2
    assert dict(states.stored()) == {}
