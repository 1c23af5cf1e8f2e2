"""The system always keeps an admin: the last active admin keeps the role, two admins demoting
each other at once cannot both succeed, and `marketpulse user roles` is the way back in. On a
PostgreSQL of the test's own, so that its admins are the only ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from marketpulse.cli import main
from marketpulse.services.postgres_server import PostgreSQL
from marketpulse.settings import get_settings
from marketpulse.storage.postgres import create_pool, migrate
from marketpulse.storage.repositories.users import LastAdmin, UserRepository
from tests.api_helpers import make_user

pytestmark = [pytest.mark.integration]


@pytest.fixture
async def own_pool(own_postgres: PostgreSQL) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test's own PostgreSQL, its schema migrated."""
    await migrate(own_postgres.settings)
    pool = await create_pool(own_postgres.settings)
    yield pool
    await pool.close()


async def test_the_last_admin_keeps_the_role_and_the_cli_restores_one(
    own_postgres: PostgreSQL,
    own_pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, pool = own_postgres.settings, own_pool
    users = UserRepository(pool)
    first = await make_user(pool, "admin")
    with pytest.raises(LastAdmin):
        await users.set_roles(first.user_id, ["user"])
    second = await make_user(pool, "admin")

    # each demotes the other at the same moment: one wins, one admin is left
    outcomes = await asyncio.gather(
        users.set_roles(first.user_id, ["analyst"]),
        users.set_roles(second.user_id, ["analyst"]),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["LastAdmin", "User"]
    admins = await pool.fetchval("SELECT count(*) FROM users WHERE 'admin' = ANY(roles)")
    assert admins == 1

    # an inactive admin is no admin: deactivated, the remaining one is the last again
    survivor = first if "admin" in (await users.get(first.user_id)).roles else second  # type: ignore[union-attr]
    await users.set_active(survivor.user_id, False)
    other = second if survivor is first else first

    # the recovery: the command line, which needs no token
    monkeypatch.setenv("MARKETPULSE_POSTGRES_PORT", str(settings.postgres_port))
    monkeypatch.setenv("MARKETPULSE_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        code = await asyncio.to_thread(
            main, ["user", "roles", other.username, "--role", "admin", "--role", "user"]
        )
        assert code == 0
        assert f"{other.username} now has roles admin, user" in capsys.readouterr().out
        assert (await users.get(other.user_id)).roles == ["admin", "user"]  # type: ignore[union-attr]
        code = await asyncio.to_thread(main, ["user", "roles", other.username, "--role", "user"])
        assert code == 1
        assert "last active admin" in capsys.readouterr().err
        assert (
            await asyncio.to_thread(main, ["user", "roles", "nobody-here", "--role", "user"]) == 1
        )
    finally:
        get_settings.cache_clear()


async def test_a_user_who_is_no_admin_gets_roles_even_with_no_admin_at_all(
    own_pool: asyncpg.Pool,
) -> None:
    user = await make_user(own_pool, "user")
    changed = await UserRepository(own_pool).set_roles(user.user_id, ["analyst", "user"])
    assert changed is not None
    assert changed.roles == ["analyst", "user"]
