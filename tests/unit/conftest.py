"""Fixtures the unit tests of more than one module share."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from marketpulse.gc_policy import freeze_survivors


@pytest.fixture
def freezing() -> Iterator[None]:
    """The freezing policy for one test, with nothing frozen before it; the collector's callbacks
    as they were afterwards, and nothing left frozen."""
    callbacks = list(gc.callbacks)
    gc.unfreeze()  # whatever another test froze (an app's start freezes what it made)
    gc.collect()
    try:
        freeze_survivors()
        yield
    finally:
        gc.callbacks[:] = callbacks
        gc.unfreeze()
