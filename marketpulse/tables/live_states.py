"""Decoded state in front of a bytes table, encoded and written to the changelog once per commit.

An agent puts a key's state after each step. Writing every put to the changelog made the state
records the largest share of what a worker sent (2.7 of 7.4 records per frame, one of them the
19 KB series state), and encoding every put a quarter of the step's CPU (a series' state is
8 KB of JSON, written after every bar it advanced). Like a heap state backend that serialises at
its checkpoint, a key's state is kept as the object the steps change and only its last state is
encoded and written, when the consumer commits (:mod:`marketpulse.tables.flush`): before the
offsets that the states imply, appended to the worker's batches behind the outputs they imply
(:mod:`marketpulse.streams.batches`). Each write follows :mod:`marketpulse.tables.checkpoints`, so
a flush that a crash cuts short reads back as the one before it.

A step that fails half-way leaves the objects it changed half-changed: :meth:`LiveStates.revert`
forgets every object changed since the last :meth:`LiveStates.checkpoint` (a flush is one), and
:mod:`marketpulse.tables.journal` applies the steps since then again.

A flush is made whole on the changelog by its partitions' markers, and those are written
(:meth:`LiveStates.seal`) only once every record sent before them was delivered
(:mod:`marketpulse.streams.delivery`): the states imply their steps' outputs, and a marker that
landed while an output before it was lost would have the next owner skip that output's input
as applied. Until then the flush is *unsealed*: its records carry the sealed state as their
previous one (a reader after a crash takes that), this worker reads their current state, and a
flush made before the seal (the seal failed, and the worker is stopping) writes its keys again
under the same number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from marketpulse.gc_policy import long_lived
from marketpulse.metrics import STATE_RECORDS
from marketpulse.tables import checkpoints

T = TypeVar("T")
log = logging.getLogger(__name__)


class LiveStates(Generic[T]):
    """The decoded states of the keys this worker owns, and the encodings not yet written.

    The table (and its changelog) holds the last flushed state of every key; ``write`` sends a
    changelog record (topic, partition, key, value).
    """

    def __init__(
        self,
        table: Any,
        decode: Callable[[bytes], T],
        encode: Callable[[T], bytes],
        write: Callable[[str, int, bytes, bytes], object],
    ) -> None:
        self._table = table
        self._decode = decode
        self._encode = encode
        self._write = write
        self._cache: dict[bytes, T] = {}
        self._changed: dict[bytes, int] = {}  # key -> partition: put since the last checkpoint
        self._dirty: dict[bytes, tuple[int, bytes]] = {}  # key -> (partition, encoding)
        self._unsealed: dict[int, int] = {}  # partition -> its flush whose marker is not written
        self._unsealed_keys: set[bytes] = set()  # their records, the previous state still in

    @property
    def name(self) -> str:
        """The table's name."""
        return str(self._table.name)

    def get(self, key: bytes) -> T | None:
        """The key's state: the one in use, else the last checkpoint's, else the table's."""
        state = self._cache.get(key)
        if state is None:
            encoded = self._encoded(key)
            if encoded is None:
                return None
            state = self._cache[key] = long_lived(self._decode, encoded)
        return state

    def put(self, key: bytes, state: T, partition: int) -> None:
        """Keep the state of a whole step: encoded at the next checkpoint, written at the next
        flush. The state is the object the steps go on changing, so the agent puts it before
        anything can run a checkpoint (before its step awaits): a checkpoint must find every
        object it encodes whole."""
        self._cache[key] = state
        self._changed[key] = partition

    def checkpoint(self) -> None:
        """Encode each state put since the last checkpoint: what :meth:`revert` goes back to,
        and what the next flush writes."""
        cache, dirty = self._cache, self._dirty
        for key, partition in self._changed.items():
            dirty[key] = (partition, self._encode(cache[key]))
        self._changed.clear()

    def revert(self) -> None:
        """Forget the states in use (a step failed half-way, and may have changed any of them):
        each key's state is its last checkpoint's again."""
        self._cache.clear()
        self._changed.clear()

    def stored(self) -> Iterator[tuple[bytes, T]]:
        """Every key's last whole state (for rebuilding what derives from them), as :meth:`get`
        gives it: one decoded here stays in use, since its key's next step wants it too (after
        a recovery, each state would otherwise be decoded twice). One that does not decode is
        logged and left out: its key's own steps fail on it."""
        # a changelog record with no key (another writer's, on the wrong topic) is no state
        keys = {
            key
            for key in self._table.data.keys()
            if key is not None and not checkpoints.is_marker(key)
        }
        for key in keys | self._dirty.keys() | self._changed.keys():
            try:
                state = self.get(key)
            except (ValueError, KeyError, TypeError):
                log.exception("%s: the state of %r does not decode", self.name, key)
                continue
            if state is not None:
                yield key, state

    def flush(self) -> None:
        """Write each changed key's last state (:meth:`seal` makes the flush whole)."""
        self.checkpoint()
        by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
        for key, (partition, encoded) in self._dirty.items():
            by_partition.setdefault(partition, []).append((key, encoded))
        data, topic = self._table.data, self._table.changelog_topic.get_topic_name()
        for partition, changed in by_partition.items():
            sealed = self._sealed(partition)
            flush = sealed + 1  # a flush not sealed yet is written again under its number
            for key, encoded in changed:
                previous = self._part(key, sealed)
                record = checkpoints.pack(flush, partition, checkpoints.compress(encoded), previous)
                self._write(topic, partition, key, record)
                data[key] = record
            self._unsealed[partition] = flush
            self._unsealed_keys.update(key for key, _ in changed)
        STATE_RECORDS.labels(table=self.name).inc(len(self._dirty))
        self._dirty.clear()

    def unsealed(self) -> bool:
        """Whether a flush waits for :meth:`seal`."""
        return bool(self._unsealed)

    def seal(self) -> None:
        """Write the marker of each partition flushed since the last seal: the flush is whole
        on the changelog from then on. Call it only once every record sent before it was
        delivered (the module's docstring says why)."""
        data, topic = self._table.data, self._table.changelog_topic.get_topic_name()
        for partition, flush in self._unsealed.items():
            key, marker = checkpoints.marker_key(partition), checkpoints.marker(flush)
            self._write(topic, partition, key, marker)
            data[key] = marker
        for key in self._unsealed_keys:
            # the previous state is for a reader after a crash; the copy kept here is read
            # while this flush's marker stands, so it does without (half the memory)
            data[key] = checkpoints.current_only(data[key])
        self._unsealed.clear()
        self._unsealed_keys.clear()

    def reset(self) -> int:
        """Forget everything not in the table (on a (re)assignment the table is the truth);
        return how many pending states were dropped."""
        dropped = len(self._dirty.keys() | self._changed.keys())
        self._cache.clear()
        self._changed.clear()
        self._dirty.clear()
        self._unsealed.clear()
        self._unsealed_keys.clear()
        return dropped

    def _encoded(self, key: bytes) -> bytes | None:
        dirty = self._dirty.get(key)
        if dirty is not None:
            return dirty[1]
        return self._flushed_state(key)

    def _flushed_state(self, key: bytes) -> bytes | None:
        part = self._flushed_part(key)
        return None if part is None else checkpoints.expand(part)

    def _flushed_part(self, key: bytes) -> bytes | None:
        """The key's last whole state as the record carries it (compressed), as this worker
        has it (an unsealed flush included)."""
        record: bytes | None = self._table.data.get(key)
        if record is None:
            return None
        partition = checkpoints.partition_of(record)
        return checkpoints.resolve(record, self._unsealed.get(partition) or self._sealed(partition))

    def _part(self, key: bytes, sealed: int) -> bytes | None:
        """The key's state as a reader of the changelog would take it, ``sealed`` the last
        sealed flush of its partition."""
        record: bytes | None = self._table.data.get(key)
        return None if record is None else checkpoints.resolve(record, sealed)

    def _sealed(self, partition: int) -> int:
        return checkpoints.flushed(self._table.data.get(checkpoints.marker_key(partition)))
