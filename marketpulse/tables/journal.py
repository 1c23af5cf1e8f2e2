"""The steps applied since the agents' states were last encoded, to undo a step that fails.

The live states keep each key's state as the object the steps change, encoded only at a
checkpoint (:mod:`marketpulse.tables.live_states`): a step that fails half-way leaves any of
them half-changed, with no encoding of how it found them. The steps are pure (a message, the
states and the wall clock as it was read in; :mod:`marketpulse.analytics.steps`), so the journal
keeps, for each step since the last checkpoint, how to apply it again. To undo a failed step,
every state goes back to its checkpoint, what derives from them is forgotten (the partitions'
times, rebuilt from the symbols' states), the journal's steps are applied again, their outputs
dropped (they were sent the first time), and the states they leave are encoded as the next
checkpoint: so a poisoned symbol that fails every other frame costs each good step at most
once more, not once per failure.

Both agents' steps go in one journal, in the order they ran: a ready-made bar and a frame may
advance the same series. The journal is cleared at every flush; it holds a commit interval's
messages at most.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from marketpulse.tables.live_states import LiveStates


class Derived(Protocol):
    """What is worked out from the states, and worked out again when they change under it."""

    def clear(self) -> None: ...


class Journal:
    """The live states the agents write, in flush order, and the steps applied since their last
    checkpoint."""

    def __init__(self, *states: LiveStates[Any]) -> None:
        self.states = states
        self._derived: list[Derived] = []
        self._steps: list[Callable[[], object]] = []

    def derive(self, derived: Derived) -> None:
        """Forget ``derived`` whenever the states go back to their checkpoint."""
        self._derived.append(derived)

    def record(self, again: Callable[[], object]) -> None:
        """Note a step that has put its states; ``again`` applies it again and puts them."""
        self._steps.append(again)

    def undo(self) -> None:
        """Bring every state back to where the last whole step left it (the step since then
        failed half-way)."""
        for states in self.states:
            states.revert()
        for derived in self._derived:
            derived.clear()
        for again in self._steps:
            again()
        self._checkpoint()

    def flush(self) -> None:
        """Write every state changed since the last flush (the consumer commits)."""
        for states in self.states:
            states.flush()
        self._steps.clear()

    def reset(self) -> dict[str, int]:
        """Forget everything not flushed (the partitions were taken away); how many states
        were dropped, by table."""
        self._steps.clear()
        return {states.name: states.reset() for states in self.states}

    def _checkpoint(self) -> None:
        for states in self.states:
            states.checkpoint()
        self._steps.clear()
