"""Bulk upserts through COPY: rows are copied into a temporary table, then merged in one
statement, so a batch of thousands costs one round trip and repeating it changes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg


async def copy_upsert(
    connection: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """Insert or replace ``rows`` (tuples in ``columns`` order) by ``key``; return the count.

    Rows repeating a key inside one call keep the last one (ON CONFLICT cannot touch a row twice).
    """
    positions = [columns.index(k) for k in key]
    unique = {tuple(row[i] for i in positions): tuple(row) for row in rows}
    if not unique:
        return 0
    staging = f"_{table}_in"
    column_list = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    async with connection.transaction():
        await connection.execute(
            f"CREATE TEMP TABLE {staging} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        await connection.copy_records_to_table(
            staging, records=list(unique.values()), columns=list(columns)
        )
        await connection.execute(
            f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {staging} "
            f"ON CONFLICT ({', '.join(key)}) {action}"
        )
    return len(unique)
