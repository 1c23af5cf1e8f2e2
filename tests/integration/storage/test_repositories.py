"""Repositories against the real PostgreSQL."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from marketpulse.schemas.signals import Signal
from marketpulse.storage.repositories.audit import AuditRepository
from marketpulse.storage.repositories.jobs import JobRepository, JobResult
from marketpulse.storage.repositories.signals import SignalRepository
from marketpulse.storage.repositories.symbols import SymbolInfo, SymbolRepository, read_seed
from marketpulse.storage.repositories.users import SessionRepository, UserRepository

pytestmark = [pytest.mark.integration]
T0 = 1_700_000_000_000_000_000


def token() -> str:
    return secrets.token_hex(4).upper()


def signal(symbol: str, i: int, strength: float = 100.0, name: str = "cdlhammer") -> Signal:
    return Signal(symbol=symbol, granularity="1d", ts=T0 + i, kind="candlestick", name=name,
                  strength=strength, direction="bullish", details={"i": float(i)})  # fmt: skip


async def test_signals_upsert_by_key_so_a_repeat_changes_nothing(pool: asyncpg.Pool) -> None:
    repo = SignalRepository(pool)
    symbol = f"S{token()}"
    batch = [signal(symbol, i) for i in range(500)]
    assert await repo.upsert(batch) == 500
    assert await repo.upsert(batch) == 500  # redelivered
    restated = signal(symbol, 3, strength=80.0)
    await repo.upsert([signal(symbol, 3), restated])  # the last of a repeated key wins
    count = await pool.fetchval("SELECT count(*) FROM signals WHERE symbol = $1", symbol)
    assert count == 500
    newest = await repo.query(symbol, limit=2)
    assert [s.ts for s in newest] == [T0 + 499, T0 + 498]
    window = await repo.query(symbol, start=T0 + 3, end=T0 + 4)
    assert window == [restated]
    assert await repo.query(symbol, kind="trend") == []


async def test_a_revision_restates_a_signal_and_a_withdrawal_deletes_it(
    pool: asyncpg.Pool,
) -> None:
    repo = SignalRepository(pool)
    symbol = f"S{token()}"
    await repo.upsert([signal(symbol, i) for i in range(3)])
    restated = signal(symbol, 1, strength=200.0).model_copy(update={"revision": 1})
    gone = signal(symbol, 2).model_copy(update={"revision": 1, "withdrawn": True})
    assert await repo.upsert([restated, gone]) == 2
    assert await repo.query(symbol) == [restated, signal(symbol, 0)]
    # the last record of a key decides: withdrawn, then fired again by a later revision
    back = signal(symbol, 2).model_copy(update={"revision": 2})
    await repo.upsert([gone, back])
    assert (await repo.query(symbol, start=T0 + 2))[0] == back
    await repo.upsert([back, gone.model_copy(update={"revision": 3})])
    assert await repo.query(symbol, start=T0 + 2) == []


async def test_the_bundled_symbols_seed_idempotently_and_search_by_prefix(
    pool: asyncpg.Pool,
) -> None:
    repo = SymbolRepository(pool)
    seed = read_seed()
    assert await repo.seed() == len(seed)
    assert await repo.seed() == len(seed)
    count = await pool.fetchval(
        "SELECT count(*) FROM symbols WHERE symbol = ANY($1::text[])", [s.symbol for s in seed]
    )
    assert count == len(seed)
    apple = await repo.get("aapl")
    assert apple is not None
    assert apple.name == "Apple Inc."
    assert apple.sector == "Information Technology"
    assert [s.symbol for s in await repo.search("appl")][:1] == ["AAPL"]
    assert "MSFT" in [s.symbol for s in await repo.search("micro")]
    banks = {s.symbol for s in await repo.search("banks")}
    assert {"JPM", "BAC", "WFC", "C"} <= banks
    assert await repo.search("'; DROP TABLE symbols; --") == []
    assert await repo.search("   ") == []


async def test_exact_ticker_ranks_first_and_listing_filters(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    repo = SymbolRepository(pool)
    tag = token()
    sector = f"Sector {tag}"
    rows = [
        SymbolInfo(symbol=f"Z{tag}", name=f"Zeta {tag} Holdings", sector=sector, exchange="NYSE"),
        SymbolInfo(symbol=f"Z{tag}X", name="Other", sector=sector, exchange="NASDAQ"),
        SymbolInfo(symbol=f"Y{tag}", name=f"Z{tag} Partners", sector=sector, is_active=False),
    ]
    assert await repo.upsert(rows) == 3
    found = [s.symbol for s in await repo.search(f"z{tag}")]
    assert found[:2] == [f"Z{tag}", f"Z{tag}X"]
    assert f"Y{tag}" in found
    listed = await repo.listing(sector=sector)
    assert [s.symbol for s in listed] == [f"Z{tag}", f"Z{tag}X"]
    assert len(await repo.listing(sector=sector, active_only=False)) == 3
    assert [s.symbol for s in await repo.listing(sector=sector, exchange="NASDAQ")] == [f"Z{tag}X"]
    renamed = rows[0].model_copy(update={"name": "Renamed"})
    await repo.upsert([renamed])
    assert await repo.get(f"Z{tag}") == renamed


async def test_users_and_sessions(pool: asyncpg.Pool) -> None:
    users, sessions = UserRepository(pool), SessionRepository(pool)
    name = f"u{token().lower()}"
    user = await users.create(name, f"{name}@example.com", "hash", ["analyst"], "Ann Alyst")
    assert await users.by_username(name) == user
    assert await users.get(user.user_id) == user
    with pytest.raises(asyncpg.UniqueViolationError):
        await users.create(name, f"other-{name}@example.com", "hash", ["user"])
    changed = await users.set_active(user.user_id, False)
    assert changed is not None
    assert (changed.roles, changed.is_active) == (["analyst"], False)
    assert await users.set_active(uuid4(), False) is None
    now = datetime.now(UTC)
    live = await sessions.create(uuid4(), user.user_id, "h1", now + timedelta(days=7))
    old = await sessions.create(uuid4(), user.user_id, "h2", now - timedelta(seconds=1))
    assert await sessions.active(live.session_id, now) == live
    assert await sessions.active(old.session_id, now) is None
    assert await sessions.revoke(live.session_id) is True
    assert await sessions.revoke(live.session_id) is False
    assert await sessions.active(live.session_id, now) is None
    other = await sessions.create(uuid4(), user.user_id, "h3", now + timedelta(days=1))
    assert await sessions.revoke_all(user.user_id) == 2  # h2 (expired, not revoked) and h3
    assert await sessions.active(other.session_id, now) is None
    assert await sessions.purge_expired(now) >= 1


async def test_jobs_total_their_per_symbol_results(pool: asyncpg.Pool) -> None:
    jobs = JobRepository(pool)
    job = await jobs.create(["AAPL", "MSFT"], "replay")
    assert job.status == "pending"
    running = await jobs.set_status(job.job_id, "running")
    assert running is not None
    assert running.started_at is not None
    await jobs.record_results([JobResult(job_id=job.job_id, symbol="AAPL", records=10, errors=1)])
    await jobs.record_results(
        [
            JobResult(job_id=job.job_id, symbol="AAPL", records=12, errors=0),  # replaces
            JobResult(job_id=job.job_id, symbol="MSFT", records=5, errors=2, detail="2 bad rows"),
        ]
    )
    done = await jobs.set_status(job.job_id, "succeeded")
    assert done is not None
    assert (done.records_processed, done.errors_count) == (17, 2)
    assert done.completed_at is not None
    assert [r.symbol for r in await jobs.results(job.job_id)] == ["AAPL", "MSFT"]
    assert job.job_id in {j.job_id for j in await jobs.recent(status="succeeded")}


async def test_the_audit_log_appends_and_filters(pool: asyncpg.Pool) -> None:
    audit = AuditRepository(pool)
    action = f"test.{token().lower()}"
    first = await audit.record(action, resource="/api/v1/x", detail={"n": 1}, ip_address="10.0.0.1")
    second = await audit.record(action, detail={"n": 2}, request_id="r-2")
    entries = await audit.recent(action=action)
    assert [e.audit_id for e in entries] == [second.audit_id, first.audit_id]
    assert entries[1].detail == {"n": 1}
    assert str(entries[1].ip_address) == "10.0.0.1"
    with pytest.raises(asyncpg.DataError):
        await audit.record(action, ip_address="not-an-ip")
