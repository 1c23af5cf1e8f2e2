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

The compression uses a dictionary: a few KB of state is mostly what every state repeats (the
same keys, nesting and windows in the same places), which Zstandard finds in a dictionary that
holds typical states (``state-dictionary-2.jsonl``: a symbol's state, a series of every catalog
spec and one of the default set), so that a record carries little more than its numbers. A
state so compressed starts with the dictionary's number; a dictionary never changes once
records were written with it, and a new one takes the next number (``bench/state_dictionary.py``
says when one is due). The first held the indicators' states in their keyed form: records
written with it still read.
"""

from __future__ import annotations

import struct
from importlib.resources import files
from typing import Final

import zstandard

_HEADER: Final = struct.Struct(">qiI")  # flush number, partition, length of the current state
_MARKER: Final = b"\x00flushed\x00"  # keys are symbols and series names: never a NUL
_LEVEL: Final = 1


def _dictionary(number: int) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(
        files("marketpulse.tables").joinpath(f"state-dictionary-{number}.jsonl").read_bytes(),
        dict_type=zstandard.DICT_TYPE_RAWCONTENT,
    )


_DICTIONARY: Final = _dictionary(2)  # the one states are written with
_DICTIONARY.precompute_compress(level=_LEVEL)  # digested once, not at every compression
_WITH_DICTIONARY: Final = b"\x02"  # the dictionary's number, ahead of the Zstandard frame
# made once (a context per call costs a third more); used from the worker's event loop only,
# as none may be shared between threads
_COMPRESSOR: Final = zstandard.ZstdCompressor(level=_LEVEL, dict_data=_DICTIONARY)
_DECOMPRESSORS: Final = {
    b"\x01": zstandard.ZstdDecompressor(dict_data=_dictionary(1)),  # keyed states
    _WITH_DICTIONARY: zstandard.ZstdDecompressor(dict_data=_DICTIONARY),
}
_PLAIN_DECOMPRESSOR: Final = zstandard.ZstdDecompressor()


class CorruptRecord(ValueError):
    """A state record that this format did not write (another writer's, or one cut short)."""


def compress(state: bytes) -> bytes:
    """A state as a record carries it."""
    return _WITH_DICTIONARY + _COMPRESSOR.compress(state)


def expand(part: bytes) -> bytes:
    """The state a record carries (:func:`resolve`). Records that workers wrote before still
    read: uncompressed, a record holds the JSON itself, which starts with ``{``; compressed
    without a dictionary, a Zstandard frame, which starts with its magic number
    (``28 b5 2f fd``)."""
    first = part[:1]
    if first == b"{":
        return part
    try:
        with_dictionary = _DECOMPRESSORS.get(first)
        if with_dictionary is not None:
            return with_dictionary.decompress(part[1:])
        return _PLAIN_DECOMPRESSOR.decompress(part)
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
