"""How often a worker's garbage collector walks its whole heap.

Most of a worker's heap is its states: some 230 container objects a series (indicators, their
windows and queues, the detectors' recent bars), long-lived and free of reference cycles, so
reference counting frees them without the collector. CPython visits every one of them, and every
reference each holds, in each full collection, and runs one after ten collections of its middle
generation once the objects promoted since the last reach a quarter of its oldest generation.
The frames, events and records a worker has in flight outlive the young collections and are
promoted by the thousand, so both conditions hold every few seconds; and while states are
decoded or built (a recovery, a warm-up, the first frame of each symbol) the oldest generation
grows by a quarter again and again, each time walked whole. Measured (``bench/state_cost.py``,
``bench/worker_ab.py``): decoding 1,000 symbols' states and keeping them, as the worker's cache
does, took 5.7 s against about 1.8 s when each was dropped at once, and 2.4 s with full
collections a hundred times rarer; a full collection walks 1,000 symbols' states in 0.5-0.65 s,
a pause of the event loop.

The full collections find little: about a thousand objects in cycles a minute of a busy worker
(``gc.callbacks``' counts), so making them rarer leaves memory as it was.

Rarer, each was still a pause of the event loop as long as the states are many (5-6.5 s over
10,000 symbols), and the worker cannot choose when one comes: Faust itself runs one a second
while it waits for a stop's or a revocation's unacknowledged messages. So what survives a full
collection is moved out of the collector's sight (``gc.freeze``): the next full collection
walks only what was promoted since, a few milliseconds where the states are not new. An object
frozen that later dies in a reference cycle stays (reference counting frees every other); the
states hold no cycles, and what a worker has in flight at a freeze is little (a few dozen
objects over a run, docs/benchmarks.md). A worker freezes unless its settings say not to
(``worker_gc_freeze``).

A state decoded from its table (:func:`long_lived`) is frozen as soon as it is made, where
it would otherwise be walked by a young collection and again by a middle one on its way to the
oldest generation: a recovery decodes tens of thousands of them in a burst, and those walks
were a quarter of decoding and keeping a series (77 µs against 57 with them held off,
docs/benchmarks.md).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TypeVar

A = TypeVar("A")
T = TypeVar("T")


def collect_fully_every(middle_collections: int) -> None:
    """Let a full collection run only after ``middle_collections`` collections of the middle
    generation (CPython's default is 10); its other rule (a quarter of the oldest generation
    promoted since the last one) still holds. The young generations' thresholds stay."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, middle_collections)


def freeze_survivors() -> None:
    """After each full collection, freeze what survived it (``gc.freeze``): a later full
    collection then walks only the objects promoted since."""
    if _freeze_after_full not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full)


def _freeze_after_full(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def long_lived(make: Callable[[A], T], argument: A) -> T:
    """``make(argument)``: an object the worker keeps (a state decoded from its table), made
    with the collector held off and frozen at once, with whatever else is tracked then, when
    the worker freezes survivors (:func:`freeze_survivors`); else simply made. What else is
    frozen with it is what the next full collection would have frozen too, but for objects in
    a cycle that is (or later becomes) garbage, which stay, as at any freeze: a busy worker
    makes about a thousand a minute, and a recovery freezes what its seconds of decoding make."""
    if _freeze_after_full not in gc.callbacks:
        return make(argument)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return make(argument)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
