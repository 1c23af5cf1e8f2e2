"""A live source's condition table: fetched from the vendor (a local server in its format),
kept in PostgreSQL, refreshed, and the last good one kept when the vendor fails."""

from __future__ import annotations

import asyncpg
import orjson
from aiohttp import web

from marketpulse.analytics.conditions import ConditionTable
from marketpulse.conditions import ConditionRules, shipped
from marketpulse.policy import Backoff, CircuitBreaker, TokenBucket
from marketpulse.storage.repositories.condition_tables import ConditionTables
from marketpulse.vendors.http import Policy
from marketpulse.vendors.polygon import Polygon
from tests.kafka_helpers import unique
from tests.vendor_helpers import Answer, fake_vendor, fixture


async def _no_wait(_seconds: float) -> None:
    return None


def _client(url: str) -> Polygon:
    policy = Policy(quotas={"minute": TokenBucket(1000, 60.0)}, retries=1,
                    backoff=Backoff(0.0, 0.0), breaker=CircuitBreaker(50, 60.0))  # fmt: skip
    return Polygon("test-key", url, policy=policy, sleep=_no_wait)


class Vendor:
    """Answers the conditions reference in one page, or fails with a 500 when down."""

    def __init__(self) -> None:
        self.down = False

    def __call__(self, _request: web.Request) -> Answer:
        if self.down:
            return Answer(b'{"status": "ERROR", "error": "internal"}', status=500)
        page = orjson.loads(fixture("polygon/reference_conditions.json"))
        return Answer(orjson.dumps({k: v for k, v in page.items() if k != "next_url"}))


async def test_a_table_is_fetched_kept_and_outlives_a_vendor_that_fails(
    pool: asyncpg.Pool,
) -> None:
    source, kept, vendor = unique("cond"), ConditionTables(pool), Vendor()
    fallback = ConditionTable(source, {"1": 7})
    async with fake_vendor(vendor) as server:
        client = _client(server.url)
        rules = ConditionRules(source, kept, client.conditions, fallback)
        fetched = await rules.refresh()
        assert fetched is not None
        assert fetched.rules["37"] == 4  # the vendor's table, not the fallback
        assert await kept.load(source) == ConditionTable(source, fetched.rules)
        (status,) = [s for s in await kept.statuses() if s.source == source]
        assert (status.version, status.error) == (fetched.version, None)

        vendor.down = True
        assert await rules.refresh() == fetched  # the table in use goes on
        (status,) = [s for s in await kept.statuses() if s.source == source]
        assert status.version == fetched.version  # the last good one
        assert status.error is not None
        assert "500" in status.error
        assert status.checked_at > status.fetched_at  # type: ignore[operator]

        # a restart while the vendor is down takes the table kept, not the fallback
        restarted = ConditionRules(source, kept, client.conditions, fallback)
        assert await restarted.refresh() == ConditionTable(source, fetched.rules)
        await client.close()


async def test_a_source_never_fetched_starts_on_its_fallback_and_says_why(
    pool: asyncpg.Pool,
) -> None:
    source, kept, vendor = unique("cond"), ConditionTables(pool), Vendor()
    vendor.down = True
    async with fake_vendor(vendor) as server:
        client = _client(server.url)
        rules = ConditionRules(source, kept, client.conditions, shipped("polygon"))
        assert await rules.refresh() == shipped("polygon")
        await client.close()
    (status,) = [s for s in await kept.statuses() if s.source == source]
    assert (status.version, status.fetched_at) == (None, None)
    assert status.error is not None
    assert await kept.load(source) is None
