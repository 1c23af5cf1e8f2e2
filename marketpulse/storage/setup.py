"""Prepare the stores before anything runs: migrations, the symbol seed, InfluxDB's database."""

from __future__ import annotations

from marketpulse.settings import Settings
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.postgres import create_pool, migrate
from marketpulse.storage.repositories.symbols import SymbolRepository


async def prepare_stores(settings: Settings) -> list[str]:
    """Apply migrations, seed the symbols, create InfluxDB's database and policies (idempotent).
    Return what was done, one line each."""
    applied = await migrate(settings)
    pool = await create_pool(settings, max_size=1)
    try:
        seeded = await SymbolRepository(pool).seed()
    finally:
        await pool.close()
    async with InfluxClient(settings) as influx:
        await influx.ensure_database()
    return [
        "migrations: " + (", ".join(applied) if applied else "up to date"),
        f"symbols: {seeded} seeded",
        f"influxdb: database {settings.influx_database} and its retention policies ready",
    ]
