"""PostgreSQL through asyncpg: connections and schema migrations.

Migrations are the ordered ``migrations/NNNN_name.sql`` files, each applied once in its own
transaction and recorded in ``schema_migrations`` with a checksum. An advisory lock makes
concurrent runs (several workers starting together) safe; a file changed after it was applied
is refused rather than silently skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from marketpulse.errors import MarketPulseError, StoreError
from marketpulse.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK = 0x6D61726B  # an arbitrary advisory-lock key for migrations


class MigrationError(MarketPulseError):
    """A migration cannot be applied, or an applied one has changed."""


@dataclass(frozen=True)
class Migration:
    """One SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


# Earlier texts of applied migrations whose edits touched only comments, by version: a database
# that recorded one of these checksums has the same schema, and its record is brought up to date.
REWORDED: dict[int, frozenset[str]] = {
    1: frozenset({"3d5a71e392380c3efdf08645ab850029ec7dd1ca581329f9e9d2fdd3201feeb8"}),
}


def load_migrations(directory: Path = MIGRATIONS) -> list[Migration]:
    """Every ``NNNN_name.sql`` file, in version order."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        found.append(Migration(int(version), name, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version in {directory}")
    return found


def _credentials(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.postgres_host,
        "port": settings.postgres_port,
        "user": settings.postgres_user,
        "password": settings.postgres_password.get_secret_value(),
        "database": settings.postgres_database,
    }


async def connect(settings: Settings) -> asyncpg.Connection:
    """One connection with the configured credentials."""
    return await asyncpg.connect(**_credentials(settings))


async def _json_codecs(connection: asyncpg.Connection) -> None:
    """JSON columns as Python values, in binary form so COPY can carry them too (binary jsonb
    is a version byte, 1, then the text)."""
    await connection.set_type_codec(
        "json", schema="pg_catalog", encoder=orjson.dumps, decoder=orjson.loads, format="binary"
    )
    await connection.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_jsonb, decoder=_from_jsonb, format="binary"
    )


def _jsonb(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)


def _from_jsonb(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def create_pool(settings: Settings, max_size: int = 10) -> asyncpg.Pool:
    """A connection pool that maps JSON columns to Python values; connections lost to a server
    restart are replaced on next use."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        **_credentials(settings), min_size=0, max_size=max_size, init=_json_codecs
    )
    return pool


# What a call may raise when the server is down, restarting or refuses the statement; and
# asyncpg's own confusion about a connection's protocol state, met when the server restarts in
# the middle of a statement ("cannot switch to state 15; another operation (2) is in progress",
# MagicStack/asyncpg#784): that connection cannot be trusted again, but a fresh one works.
POSTGRES_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                   OSError)  # fmt: skip


def store_error(exc: Exception) -> StoreError:
    """Classify a database failure: the data's fault (not retriable), or the server's."""
    refused = isinstance(
        exc,
        asyncpg.DataError | asyncpg.IntegrityConstraintViolationError | asyncpg.SyntaxOrAccessError,
    )
    return StoreError(f"PostgreSQL: {type(exc).__name__}: {exc}", retriable=not refused)


async def migrate(
    settings: Settings,
    directory: Path = MIGRATIONS,
    reworded: dict[int, frozenset[str]] = REWORDED,
) -> list[str]:
    """Apply the migrations not applied yet; return their names."""
    migrations = load_migrations(directory)
    connection = await connect(settings)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK)
        await connection.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version INTEGER PRIMARY KEY,
                   name TEXT NOT NULL,
                   checksum TEXT NOT NULL,
                   applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
        )
        applied = {
            row["version"]: row["checksum"]
            for row in await connection.fetch("SELECT version, checksum FROM schema_migrations")
        }
        done = []
        for migration in migrations:
            if migration.version in applied:
                recorded = applied[migration.version]
                if recorded in reworded.get(migration.version, frozenset()):
                    await connection.execute(
                        "UPDATE schema_migrations SET checksum = $2 WHERE version = $1",
                        migration.version,
                        migration.checksum,
                    )
                elif recorded != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} changed after it "
                        "was applied; add a new migration instead"
                    )
                continue
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            done.append(f"{migration.version:04d}_{migration.name}")
        return done
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK)
        await connection.close()
