"""Schema migrations against the real PostgreSQL."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from marketpulse.settings import Settings
from marketpulse.storage.postgres import MigrationError, connect, load_migrations, migrate

pytestmark = [pytest.mark.integration]


async def test_the_schema_is_applied_once_and_recorded(services: Settings) -> None:
    await migrate(services)
    assert await migrate(services) == []  # safe to run twice
    connection = await connect(services)
    try:
        tables = {
            row["tablename"]
            for row in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        versions = [
            r["version"] for r in await connection.fetch("SELECT version FROM schema_migrations")
        ]
    finally:
        await connection.close()
    assert {
        "users", "user_sessions", "symbols", "data_ingestion_jobs", "job_results", "audit_logs",
        "signals", "schema_migrations",
    } <= tables  # fmt: skip
    assert {m.version for m in load_migrations()} <= set(versions)


async def test_a_changed_migration_is_refused(services: Settings, tmp_path: Path) -> None:
    version = 9000 + secrets.randbelow(900)
    table = f"t_{secrets.token_hex(4)}"
    path = tmp_path / f"{version}_probe.sql"
    path.write_text(f"CREATE TABLE {table} (x INT);")
    try:
        assert await migrate(services, tmp_path) == [f"{version}_probe"]
        assert await migrate(services, tmp_path) == []
        path.write_text(f"CREATE TABLE {table} (x BIGINT);")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(services, tmp_path)
    finally:
        connection = await connect(services)
        try:
            await connection.execute(f"DROP TABLE IF EXISTS {table}")
            await connection.execute("DELETE FROM schema_migrations WHERE version = $1", version)
        finally:
            await connection.close()


async def test_a_migration_reworded_in_its_comments_only_is_accepted_and_recorded_anew(
    services: Settings, tmp_path: Path
) -> None:
    version = 9000 + secrets.randbelow(900)
    path = tmp_path / f"{version}_probe.sql"
    path.write_text("-- the first wording\nSELECT 1;")
    first = load_migrations(tmp_path)[0].checksum
    try:
        assert await migrate(services, tmp_path) == [f"{version}_probe"]
        path.write_text("-- the second wording\nSELECT 1;")
        second = load_migrations(tmp_path)[0].checksum
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(services, tmp_path)  # not listed as reworded: refused
        assert await migrate(services, tmp_path, {version: frozenset({first})}) == []
        connection = await connect(services)
        try:
            recorded = await connection.fetchval(
                "SELECT checksum FROM schema_migrations WHERE version = $1", version
            )
        finally:
            await connection.close()
        assert recorded == second
        assert await migrate(services, tmp_path) == []  # the new wording is now the record
    finally:
        connection = await connect(services)
        try:
            await connection.execute("DELETE FROM schema_migrations WHERE version = $1", version)
        finally:
            await connection.close()


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "initial.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(tmp_path)
