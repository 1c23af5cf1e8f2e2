"""Fixtures for tests against the real stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from marketpulse.settings import Settings
from marketpulse.storage.postgres import create_pool, migrate


@pytest.fixture
async def pool(services: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the migrated database (tests keep apart by unique keys)."""
    await migrate(services)
    pool = await create_pool(services)
    yield pool
    await pool.close()
