"""Users and their sessions (refresh tokens are stored only as hashes)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict

_USER_COLUMNS = (
    "user_id, username, email, password_hash, full_name, is_active, roles, created_at, "
    "totp_secret, totp_enabled, totp_last_step"
)
_SESSION_COLUMNS = "session_id, user_id, refresh_token_hash, expires_at, revoked_at, created_at"


class User(BaseModel):
    """One row of ``users``."""

    model_config = ConfigDict(frozen=True)

    user_id: UUID
    username: str
    email: str
    password_hash: str
    full_name: str | None
    is_active: bool
    roles: list[str]
    created_at: datetime
    totp_secret: str | None = None
    totp_enabled: bool = False
    totp_last_step: int = 0


class UserSession(BaseModel):
    """One row of ``user_sessions``."""

    model_config = ConfigDict(frozen=True)

    session_id: UUID
    user_id: UUID
    refresh_token_hash: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class LastAdmin(Exception):
    """The change would leave no active admin."""


class UserRepository:
    """The ``users`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(
        self,
        username: str,
        email: str,
        password_hash: str,
        roles: list[str],
        full_name: str | None = None,
    ) -> User:
        """Add a user; a taken username or email raises asyncpg.UniqueViolationError."""
        row = await self.pool.fetchrow(
            f"""INSERT INTO users (username, email, password_hash, full_name, roles)
                VALUES ($1, $2, $3, $4, $5) RETURNING {_USER_COLUMNS}""",
            username,
            email,
            password_hash,
            full_name,
            roles,
        )
        return User.model_validate(dict(row))

    async def by_username(self, username: str) -> User | None:
        """The user with this name, or None."""
        row = await self.pool.fetchrow(
            f"SELECT {_USER_COLUMNS} FROM users WHERE username = $1", username
        )
        return None if row is None else User.model_validate(dict(row))

    async def get(self, user_id: UUID) -> User | None:
        """The user with this id, or None."""
        row = await self.pool.fetchrow(
            f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = $1", user_id
        )
        return None if row is None else User.model_validate(dict(row))

    async def set_active(self, user_id: UUID, active: bool) -> User | None:
        """Enable or disable an account; None when there is no such user. Roles change only
        through :meth:`set_roles`, which keeps an admin."""
        row = await self.pool.fetchrow(
            f"""UPDATE users SET is_active = $2, updated_at = now()
                WHERE user_id = $1 RETURNING {_USER_COLUMNS}""",
            user_id,
            active,
        )
        return None if row is None else User.model_validate(dict(row))

    async def set_roles(self, user_id: UUID, roles: list[str]) -> User | None:
        """Give a user ``roles``; None when there is no such user. Raises :class:`LastAdmin`
        when it would take the admin role from the last active admin (changes are serialised,
        so two admins demoting each other at once cannot both succeed); a user who is not an
        admin may always be given other roles, admin or none."""
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext('users.admins'))")
            demoting = "admin" not in roles and await connection.fetchval(
                "SELECT is_active AND 'admin' = ANY(roles) FROM users WHERE user_id = $1",
                user_id,
            )
            if demoting:
                others = await connection.fetchval(
                    """SELECT count(*) FROM users
                       WHERE user_id <> $1 AND is_active AND 'admin' = ANY(roles)""",
                    user_id,
                )
                if others == 0:
                    raise LastAdmin("the last active admin keeps the admin role")
            row = await connection.fetchrow(
                f"""UPDATE users SET roles = $2, updated_at = now()
                    WHERE user_id = $1 RETURNING {_USER_COLUMNS}""",
                user_id,
                roles,
            )
        return None if row is None else User.model_validate(dict(row))

    async def set_totp(self, user_id: UUID, secret: str | None, enabled: bool) -> None:
        """Store a TOTP secret (enrolment) and whether it is required at login."""
        await self.pool.execute(
            """UPDATE users SET totp_secret = $2, totp_enabled = $3, totp_last_step = 0,
                                updated_at = now() WHERE user_id = $1""",
            user_id,
            secret,
            enabled,
        )

    async def use_totp_step(self, user_id: UUID, step: int) -> bool:
        """Mark a TOTP time step as used; False when it (or a later one) was used already."""
        status = await self.pool.execute(
            "UPDATE users SET totp_last_step = $2 WHERE user_id = $1 AND totp_last_step < $2",
            user_id,
            step,
        )
        return bool(status.endswith(" 1"))

    async def counts(self) -> dict[str, int]:
        """Users in all, active, with TOTP on, and per role."""
        row = await self.pool.fetchrow(
            """SELECT count(*) AS total, count(*) FILTER (WHERE is_active) AS active,
                      count(*) FILTER (WHERE totp_enabled) AS totp,
                      count(*) FILTER (WHERE 'admin' = ANY(roles)) AS admins
               FROM users"""
        )
        return {key: int(value) for key, value in dict(row).items()}


class SessionRepository:
    """The ``user_sessions`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(
        self, session_id: UUID, user_id: UUID, refresh_token_hash: str, expires_at: datetime
    ) -> UserSession:
        """Open a session."""
        row = await self.pool.fetchrow(
            f"""INSERT INTO user_sessions (session_id, user_id, refresh_token_hash, expires_at)
                VALUES ($1, $2, $3, $4) RETURNING {_SESSION_COLUMNS}""",
            session_id,
            user_id,
            refresh_token_hash,
            expires_at,
        )
        return UserSession.model_validate(dict(row))

    async def active(self, session_id: UUID, now: datetime) -> UserSession | None:
        """The session if it is neither revoked nor expired at ``now``."""
        row = await self.pool.fetchrow(
            f"""SELECT {_SESSION_COLUMNS} FROM user_sessions
                WHERE session_id = $1 AND revoked_at IS NULL AND expires_at > $2""",
            session_id,
            now,
        )
        return None if row is None else UserSession.model_validate(dict(row))

    async def rotate(
        self, session_id: UUID, old_hash: str, new_hash: str, expires_at: datetime
    ) -> bool:
        """Replace the refresh token if ``old_hash`` is still the current one; False means the
        presented token was already rotated away (a reuse) or the session is closed."""
        status = await self.pool.execute(
            """UPDATE user_sessions SET refresh_token_hash = $3, expires_at = $4
               WHERE session_id = $1 AND refresh_token_hash = $2 AND revoked_at IS NULL""",
            session_id,
            old_hash,
            new_hash,
            expires_at,
        )
        return bool(status.endswith(" 1"))

    async def open_sessions(self, user_id: UUID) -> list[UUID]:
        """Ids of a user's sessions not revoked yet."""
        rows = await self.pool.fetch(
            "SELECT session_id FROM user_sessions WHERE user_id = $1 AND revoked_at IS NULL",
            user_id,
        )
        return [row["session_id"] for row in rows]

    async def count_active(self, now: datetime) -> int:
        """Sessions neither revoked nor expired."""
        value = await self.pool.fetchval(
            "SELECT count(*) FROM user_sessions WHERE revoked_at IS NULL AND expires_at > $1", now
        )
        return int(value)

    async def revoke(self, session_id: UUID) -> bool:
        """Revoke one session; return whether it was active."""
        status = await self.pool.execute(
            "UPDATE user_sessions SET revoked_at = now() "
            "WHERE session_id = $1 AND revoked_at IS NULL",
            session_id,
        )
        return bool(status.endswith(" 1"))

    async def revoke_all(self, user_id: UUID) -> int:
        """Revoke every open session of a user; return how many."""
        status = await self.pool.execute(
            "UPDATE user_sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
            user_id,
        )
        return int(status.split()[-1])

    async def purge_expired(self, now: datetime) -> int:
        """Delete sessions that expired before ``now``; return how many."""
        status = await self.pool.execute("DELETE FROM user_sessions WHERE expires_at <= $1", now)
        return int(status.split()[-1])
