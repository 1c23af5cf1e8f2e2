"""Fixtures shared by every tier: settings, the local services, worker processes, Kafka I/O."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from marketpulse.services import stack
from marketpulse.settings import Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings every test process reads (``make test`` exports the local-stack ones)."""
    return Settings()


@pytest.fixture(scope="session")
def services(settings: Settings) -> Iterator[Settings]:
    """Make sure the local services are up; stop at the end only what this fixture started."""
    started = stack.up(settings, report=lambda _line: None)
    yield settings
    stack.down(settings, only=set(started))
