"""What a sink is: the topics it reads, how a record decodes, and how a batch is written.

A sink's write must be idempotent: the runner commits offsets only after a write succeeds,
so after a crash or a rebalance the same records are written again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class Sink(ABC, Generic[T]):
    """One store fed from some topics."""

    name: str
    durable: bool = True  # False: best effort, a failed write is counted and skipped

    @abstractmethod
    def topics(self) -> list[str]:
        """The full names of the topics this sink reads."""

    @abstractmethod
    def decode(self, topic: str, value: bytes) -> Sequence[T]:
        """The items one record holds; raise ValueError for a malformed record."""

    @abstractmethod
    async def write(self, items: list[T]) -> int:
        """Store the items (idempotently); return how many points or rows that was.

        Raise :class:`marketpulse.errors.StoreError`: retriable when the store failed, not
        retriable when it refused the data.
        """

    async def start(self) -> None:
        """Open connections."""

    async def close(self) -> None:
        """Release connections."""
