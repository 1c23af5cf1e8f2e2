"""Each user's watch list and the symbols of the running sources, over HTTP against the real
PostgreSQL: what the dashboard opens on."""

from __future__ import annotations

import datetime as dt

import pytest

from marketpulse.schemas.api import WATCHLIST_MAX
from marketpulse.storage.repositories.jobs import LIVE_WITHIN_S, JobRepository
from marketpulse.streams.sources.job_runs import job_run
from tests.api_helpers import PASSWORD, ApiStack, assert_error, sign_in
from tests.kafka_helpers import unique

pytestmark = [pytest.mark.integration]
WATCHLIST = "/api/v1/watchlist"
LIVE = "/api/v1/market-data/live"


async def test_each_user_keeps_an_own_watch_list_across_sessions(api: ApiStack) -> None:
    alice = await sign_in(api.client, api.pool, "user")
    bob = await sign_in(api.client, api.pool, "analyst")
    assert (await api.client.get(WATCHLIST, headers=alice.headers)).json()["data"] == {
        "symbols": []
    }

    saved = await api.client.put(
        WATCHLIST, json={"symbols": ["msft", "AAPL", "MSFT", "X:BTCUSD"]}, headers=alice.headers
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["symbols"] == ["MSFT", "AAPL", "X:BTCUSD"]  # upper, once, in order

    again = await api.client.post(
        "/api/v1/auth/login", data={"username": alice.user.username, "password": PASSWORD}
    )
    assert again.status_code == 200, again.text
    later = {"Authorization": f"Bearer {again.json()['data']['access_token']}"}
    assert (await api.client.get(WATCHLIST, headers=later)).json()["data"]["symbols"] == [
        "MSFT", "AAPL", "X:BTCUSD",
    ]  # fmt: skip
    assert (await api.client.get(WATCHLIST, headers=bob.headers)).json()["data"]["symbols"] == []

    emptied = await api.client.put(WATCHLIST, json={"symbols": []}, headers=alice.headers)
    assert emptied.json()["data"]["symbols"] == []
    assert (await api.client.get(WATCHLIST, headers=later)).json()["data"]["symbols"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"symbols": ["AAPL", "NOT A SYMBOL"]},
        {"symbols": ["A" * 33]},
        {"symbols": [f"S{i}" for i in range(WATCHLIST_MAX + 1)]},
        {"symbols": "AAPL"},
        {"symbols": ["AAPL"], "owner": "someone else"},
        {},
    ],
    ids=["bad-symbol", "too-long", "too-many", "not-a-list", "unknown-field", "missing"],
)
async def test_a_bad_watch_list_is_refused_and_the_saved_one_kept(
    api: ApiStack, body: dict[str, object]
) -> None:
    account = await sign_in(api.client, api.pool, "user")
    await api.client.put(WATCHLIST, json={"symbols": ["AAPL"]}, headers=account.headers)
    assert_error(await api.client.put(WATCHLIST, json=body, headers=account.headers), 422)
    kept = await api.client.get(WATCHLIST, headers=account.headers)
    assert kept.json()["data"]["symbols"] == ["AAPL"]


async def test_the_watch_list_wants_a_token(api: ApiStack) -> None:
    assert_error(await api.client.get(WATCHLIST), 401, "UNAUTHORIZED")
    assert_error(await api.client.put(WATCHLIST, json={"symbols": []}), 401, "UNAUTHORIZED")


async def _live(api: ApiStack, headers: dict[str, str]) -> dict[str, list[str]]:
    response = await api.client.get(LIVE, headers=headers)
    assert response.status_code == 200, response.text
    return {s["source"]: s["symbols"] for s in response.json()["data"]}


async def test_the_running_streams_and_only_they_are_live(api: ApiStack) -> None:
    account = await sign_in(api.client, api.pool, "user")
    jobs = JobRepository(api.pool)
    kind = unique("feed")
    dead = await jobs.create(["DEAD"], f"stream:{kind}-dead")
    await jobs.set_status(dead.job_id, "running")
    await api.pool.execute(
        "UPDATE data_ingestion_jobs SET seen_at = $2 WHERE job_id = $1",
        dead.job_id,
        dt.datetime.now(dt.UTC) - dt.timedelta(seconds=LIVE_WITHIN_S + 5),
    )  # killed long ago without saying so

    async with (
        job_run(api.settings, ["AAPL", "MSFT"], f"stream:{kind}") as stream,
        job_run(api.settings, ["IBM"], f"replay:{kind}"),  # a backfill ends: not a live source
        job_run(api.settings, ["EURUSD"], f"stream:{kind}-later"),
    ):
        live = await _live(api, account.headers)
        assert live[kind] == ["AAPL", "MSFT"]
        assert live[f"{kind}-later"] == ["EURUSD"]
        assert f"{kind}-dead" not in live
        assert not any(kind in source for source in live if not source.startswith(kind))
        sources = (await api.client.get(LIVE, headers=account.headers)).json()["data"]
        order = [s["source"] for s in sources]
        assert order.index(f"{kind}-later") < order.index(kind)  # the newest first
        since = sources[order.index(kind)]["since"]
        assert dt.datetime.fromisoformat(since) == stream.job.started_at
    assert kind not in await _live(api, account.headers)  # stopped: no longer live
