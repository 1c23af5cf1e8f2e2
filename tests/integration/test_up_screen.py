"""`marketpulse up`'s first-start account, on the real PostgreSQL, and its screen."""

from __future__ import annotations

import asyncpg
import pytest

from marketpulse.api.security import verify_password
from marketpulse.settings import Settings
from marketpulse.storage.postgres import connect
from marketpulse.storage.repositories.users import UserRepository
from marketpulse.up_screen import ensure_local_account, screen

pytestmark = [pytest.mark.integration]


async def test_a_database_without_users_gets_one_local_admin_and_only_once(
    services: Settings, pool: asyncpg.Pool
) -> None:
    connection = await connect(services)
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute("TRUNCATE users CASCADE")  # undone below: the shared tables stay
        users = UserRepository(connection)
        made = await ensure_local_account(users, rounds=4)
        assert made is not None
        name, password = made
        user = await users.by_username(name)
        assert user is not None
        assert user.roles == ["admin"]
        assert len(password) >= 16
        assert password not in user.password_hash  # stored only as a hash
        assert verify_password(password, user.password_hash)
        assert await ensure_local_account(users, rounds=4) is None  # a user exists now
    finally:
        await transaction.rollback()
        await connection.close()
    assert await ensure_local_account(UserRepository(pool), rounds=4) is None


def test_the_screen_names_the_addresses_the_account_and_the_logs(services: Settings) -> None:
    lines = screen(services, ("local", "s3cret-once"), "synthetic AAPL", ".data/logs/x.log")
    text = "\n".join(lines)
    api = f"http://{services.api_host}:{services.api_port}"
    for expected in (f"{api}/dashboard", f"{api}/docs", "local / s3cret-once", ".data/logs/x.log"):
        assert expected in text
    assert len(lines) <= 12  # one screen
    assert "existing user" in "\n".join(screen(services, None, "s", "l"))
