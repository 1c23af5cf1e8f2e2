"""The audit log: who did what, from where; rows are only ever added."""

from __future__ import annotations

from datetime import datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict

_COLUMNS = "audit_id, user_id, action, resource, detail, ip_address, request_id, created_at"


class AuditEntry(BaseModel):
    """One row of ``audit_logs``."""

    model_config = ConfigDict(frozen=True)

    audit_id: int
    user_id: UUID | None
    action: str
    resource: str | None
    detail: dict[str, Any]
    ip_address: IPv4Address | IPv6Address | None
    request_id: str | None
    created_at: datetime


class AuditRepository:
    """The ``audit_logs`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(
        self,
        action: str,
        user_id: UUID | None = None,
        resource: str | None = None,
        detail: dict[str, Any] | None = None,
        ip_address: str | None = None,
        request_id: str | None = None,
    ) -> AuditEntry:
        """Append one entry."""
        row = await self.pool.fetchrow(
            f"""INSERT INTO audit_logs (user_id, action, resource, detail, ip_address, request_id)
                VALUES ($1, $2, $3, $4::jsonb, $5::inet, $6) RETURNING {_COLUMNS}""",
            user_id,
            action,
            resource,
            detail or {},
            ip_address,
            request_id,
        )
        return AuditEntry.model_validate(dict(row))

    async def recent(
        self,
        user_id: UUID | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """The newest entries first, filtered by user, action and time."""
        rows = await self.pool.fetch(
            f"""SELECT {_COLUMNS} FROM audit_logs
                WHERE ($1::uuid IS NULL OR user_id = $1)
                  AND ($2::text IS NULL OR action = $2)
                  AND ($3::timestamptz IS NULL OR created_at >= $3)
                ORDER BY audit_id DESC LIMIT $4""",
            user_id,
            action,
            since,
            limit,
        )
        return [AuditEntry.model_validate(dict(row)) for row in rows]
