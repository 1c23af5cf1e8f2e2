"""Fixtures for tests against the real stores."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from marketpulse.services.postgres_server import PostgreSQL
from marketpulse.settings import Settings
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.postgres import create_pool, migrate
from marketpulse.storage.resp import PipelinedRedis
from marketpulse.storage.setup import prepare_stores
from tests.api_helpers import ApiStack, api_settings, serve
from tests.kafka_helpers import unique
from tests.workers import free_port, own_settings


@pytest.fixture
async def redis(services: Settings) -> AsyncIterator[PipelinedRedis]:
    """The pipelined connection the API and the rate limiter use, on the local Redis."""
    client = PipelinedRedis(services.redis_url)
    yield client
    await client.close()


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


@pytest.fixture(scope="module")
async def api(services: Settings) -> AsyncIterator[ApiStack]:
    """The API served for the module, with its own topics and InfluxDB database."""
    settings = api_settings(
        services,
        topic_prefix=f"{unique('api')}.",
        influx_database=unique("api").replace("-", "_"),
    )
    await prepare_stores(settings)
    pool = await create_pool(settings)
    async with serve(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield ApiStack(settings, client, pool)
    await pool.close()
    async with InfluxClient(settings) as influx:
        await influx.query(f'DROP DATABASE "{settings.influx_database}"')


@pytest.fixture
async def services_api_closed(services: Settings) -> AsyncIterator[str]:
    """An API with registration closed."""
    async with serve(api_settings(services, api_registration_open=False)) as url:
        yield url


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[PostgreSQL]:
    """A PostgreSQL of the test's own, which it may stop and start."""
    server = PostgreSQL(own_settings(tmp_path, postgres_port=free_port()))
    server.ensure_up()
    yield server
    server.stop()
    shutil.rmtree(server.cluster_dir.resolve(), ignore_errors=True)
