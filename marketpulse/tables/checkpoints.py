"""The changelog record format that makes a flush of many keys all-or-nothing per partition.

A flush writes every changed key of a partition, then, once those records and every one sent
before them were delivered, the partition's marker, which holds the number of the last whole
flush. A crash can land only part of a flush: some keys new, some old.
Replaying from there would mix states from two points of the stream (one key's frames skipped as
applied, another's applied again under a different partition stream time), so each key's record
carries its previous state as well. A record newer than its partition's marker is from a flush
that did not finish, and reads as its previous state. So every key reads as of the same flush.

Each state in a record is compressed (Zstandard at level 1): a series' JSON state, mostly the
decimal digits of its windows' numbers, shrinks to under a third. A record carries two
states, the changelog grows with every flush until the broker compacts it, a fresh worker reads
all of it before it resumes, and the table keeps every key's record in memory; the compression
costs one pass per key at a flush (once per commit) and one at a key's first read.
"""

from __future__ import annotations

import struct
from typing import Final

import zstandard

_HEADER: Final = struct.Struct(">qiI")  # flush number, partition, length of the current state
_MARKER: Final = b"\x00flushed\x00"  # keys are symbols and series names: never a NUL
# made once (a context per call costs a third more); used from the worker's event loop only,
# as neither may be shared between threads
_COMPRESSOR: Final = zstandard.ZstdCompressor(level=1)
_DECOMPRESSOR: Final = zstandard.ZstdDecompressor()


class CorruptRecord(ValueError):
    """A state record that this format did not write (another writer's, or one cut short)."""


def compress(state: bytes) -> bytes:
    """A state as a record carries it."""
    return _COMPRESSOR.compress(state)


def expand(part: bytes) -> bytes:
    """The state a record carries (:func:`resolve`). A record written uncompressed, as workers
    wrote them before, holds the JSON itself: a JSON document starts with ``{``, a Zstandard
    frame with its magic number (``28 b5 2f fd``)."""
    if part[:1] == b"{":
        return part
    try:
        return _DECOMPRESSOR.decompress(part)
    except zstandard.ZstdError as exc:
        raise CorruptRecord(f"a state that is neither JSON nor Zstandard ({exc})") from None


def pack(flush: int, partition: int, current: bytes, previous: bytes | None) -> bytes:
    """A key's record for flush number ``flush``: its state and the one before, each as
    :func:`compress` gives it."""
    return _HEADER.pack(flush, partition, len(current)) + current + (previous or b"")


def current_only(record: bytes) -> bytes:
    """The record without its previous state: what a reader needs once its flush is whole."""
    return record[: _HEADER.size + _header(record)[2]]


def partition_of(record: bytes) -> int:
    """The partition whose marker decides the record."""
    return _header(record)[1]


def resolve(record: bytes, flushed: int) -> bytes | None:
    """The state a record stands for when its partition's last whole flush is ``flushed``
    (still compressed: :func:`expand`): its current state, or its previous one (None: there
    was none) if its flush did not finish."""
    flush, _partition, length = _header(record)
    if flush <= flushed:
        return record[_HEADER.size : _HEADER.size + length]
    return record[_HEADER.size + length :] or None


def _header(record: bytes) -> tuple[int, int, int]:
    if len(record) < _HEADER.size:
        raise CorruptRecord(f"a state record of {len(record)} bytes, shorter than its header")
    flush, partition, length = _HEADER.unpack_from(record)
    return int(flush), int(partition), int(length)


def marker_key(partition: int) -> bytes:
    """The key of a partition's marker (in the table, and so in that changelog partition)."""
    return _MARKER + str(partition).encode()


def is_marker(key: bytes) -> bool:
    """Whether ``key`` is a marker, not a state."""
    return key.startswith(_MARKER)


def marker(flush: int) -> bytes:
    """A marker's value."""
    return str(flush).encode()


def flushed(value: bytes | None) -> int:
    """The last whole flush a marker's value names (0: none yet)."""
    return int(value) if value else 0
