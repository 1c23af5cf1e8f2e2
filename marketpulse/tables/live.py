"""Decoded state in front of a bytes table, so a hot key is not decoded on every message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class LiveStates(Generic[T]):
    """The decoded states of the keys this worker owns; the table stays the durable copy.

    Clear it whenever partitions are assigned: another worker may have changed a key meanwhile.
    """

    def __init__(self, table: Any, decode: Callable[[bytes], T]) -> None:
        self._table = table
        self._decode = decode
        self._cache: dict[bytes, T] = {}

    def get(self, key: bytes) -> T | None:
        """The key's state, decoded from the table on first use."""
        state = self._cache.get(key)
        if state is None:
            stored = self._table.get(key)
            if stored is None:
                return None
            state = self._cache[key] = self._decode(stored)
        return state

    def put(self, key: bytes, state: T, encoded: bytes) -> None:
        """Keep the state and write its encoding to the table (and so to the changelog)."""
        self._cache[key] = state
        self._table[key] = encoded

    def clear(self) -> None:
        """Forget every decoded state."""
        self._cache.clear()
