"""Fixtures for tests against the real stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from marketpulse.settings import Settings
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.postgres import create_pool, migrate
from tests.kafka_helpers import unique


@pytest.fixture
async def influx(services: Settings) -> AsyncIterator[InfluxClient]:
    """A client on a database of its own (with the retention policies), dropped afterwards."""
    own = services.model_copy(update={"influx_database": unique("test").replace("-", "_")})
    client = InfluxClient(own)
    await client.ensure_database()
    yield client
    await client.query(f'DROP DATABASE "{client.database}"')
    await client.close()


@pytest.fixture
async def pool(services: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the migrated database (tests keep apart by unique keys)."""
    await migrate(services)
    pool = await create_pool(services)
    yield pool
    await pool.close()
