"""Vendor data onto the real broker, every run a job in the real PostgreSQL: backfills of bars
and news, the Polygon WebSocket and news polling, each against a local server answering with
Polygon's, Alpha Vantage's and NewsAPI's formats."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable

import asyncpg
import orjson
import pytest
from aiohttp import web
from aiokafka.structs import ConsumerRecord
from pydantic import SecretStr
from websockets.asyncio.server import ServerConnection

from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import DeadLetter, Frame
from marketpulse.schemas.news import NewsItem
from marketpulse.settings import Settings
from marketpulse.storage.repositories.jobs import Job, JobRepository
from marketpulse.streams.sources.vendor import Backfill, backfill, poll_news, stream_polygon
from tests.kafka_helpers import consume_until, unique
from tests.vendor_helpers import (
    Answer,
    fake_vendor,
    fixture,
    ws_authenticated,
    ws_vendor,
)

pytestmark = [pytest.mark.integration]

Records = list[ConsumerRecord[bytes, bytes]]
AV_DAILY = "alphavantage/time_series_daily.json"
POLYGON_AGGS = "polygon/aggs_range_1_day.json"
NEWSAPI = "newsapi/everything.json"


def _settings(services: Settings, url: str, **keys: str) -> Settings:
    update: dict[str, object] = {"topic_prefix": unique("vendor") + "."}
    for provider in ("alphavantage", "polygon", "newsapi"):
        update[f"{provider}_url"] = url
        update[f"{provider}_api_key"] = SecretStr("test-key")
    update.update(keys)
    return services.model_copy(update=update)


async def _read(settings: Settings, topic: str, enough: Callable[[Records], bool]) -> Records:
    return await consume_until(settings, [settings.topic(topic)], enough)


async def _results(pool: asyncpg.Pool, job: Job) -> dict[str, tuple[int, int, str | None]]:
    results = await JobRepository(pool).results(job.job_id)
    return {r.symbol: (r.records, r.errors, r.detail) for r in results}


async def test_polygon_bars_backfill_publishes_bars_and_fails_only_the_refused_symbol(
    services: Settings, pool: asyncpg.Pool
) -> None:
    def answer(request: web.Request) -> Answer:
        if "/NOPE/" in request.path:
            return Answer(fixture("polygon/error_not_authorized.json"),
                          status=403)  # fmt: skip
        return Answer(fixture(POLYGON_AGGS))

    async with fake_vendor(answer) as vendor:
        settings = _settings(services, vendor.url)
        request = Backfill("polygon", ["AAPL", "NOPE"], dt.date(2023, 3, 3), dt.date(2023, 3, 6))
        job = await backfill(settings, request, progress=False)
    assert [r.path for r in vendor.requests] == [
        "/v2/aggs/ticker/AAPL/range/1/day/2023-03-03/2023-03-06",
        "/v2/aggs/ticker/NOPE/range/1/day/2023-03-03/2023-03-06",
    ]
    assert (job.status, job.data_type, job.records_processed, job.errors_count) == (
        "failed", "bars:1d", 2, 1,
    )  # fmt: skip
    results = await _results(pool, job)
    assert results["AAPL"] == (2, 0, None)
    assert results["NOPE"][:2] == (0, 1)
    assert (results["NOPE"][2] or "").startswith("forbidden")
    records = await _read(settings, "market.bars.raw", lambda rs: len(rs) >= 2)
    bars = [Bar.model_validate_json(r.value) for r in records]
    assert {(r.key, b.symbol, b.granularity) for r, b in zip(records, bars, strict=True)} == {
        (b"AAPL", "AAPL", "1d")
    }
    closes = [r["c"] for r in orjson.loads(fixture(POLYGON_AGGS))["results"]]
    assert sorted(b.close for b in bars) == sorted(closes)


async def test_a_malformed_vendor_body_is_dead_lettered_whole(
    services: Settings, pool: asyncpg.Pool
) -> None:
    broken = fixture(POLYGON_AGGS)[:-40]  # cut off mid-document, as a dropped response is
    async with fake_vendor(lambda _request: Answer(broken)) as vendor:
        settings = _settings(services, vendor.url)
        request = Backfill("polygon", ["AAPL"], dt.date(2023, 3, 3), dt.date(2023, 3, 6))
        job = await backfill(settings, request, progress=False)
    assert (job.status, job.records_processed, job.errors_count) == ("failed", 0, 1)
    assert ((await _results(pool, job))["AAPL"][2] or "").startswith("malformed: not JSON")
    letters = await _read(settings, "market.deadletter", lambda rs: len(rs) >= 1)
    letter = DeadLetter.model_validate_json(letters[0].value)
    assert (letter.reason, letter.topic, letter.key) == ("malformed", "vendor:polygon", "AAPL")
    assert letter.payload == broken.decode()


async def test_alpha_vantage_backfill_keeps_the_dates_and_dead_letters_a_bad_row(
    services: Settings, pool: asyncpg.Pool
) -> None:
    body = orjson.loads(fixture(AV_DAILY))
    series = body["Time Series (Daily)"]
    series["2025-07-01"]["4. close"] = "n/a"
    wanted = sorted(day for day in series if "2025-07-01" <= day <= "2025-07-10")

    async with fake_vendor(lambda _request: Answer(orjson.dumps(body))) as vendor:
        settings = _settings(services, vendor.url)
        request = Backfill("alphavantage", ["AAPL"], dt.date(2025, 7, 1), dt.date(2025, 7, 10))
        job = await backfill(settings, request, progress=False)
    query = vendor.requests[0].query
    assert (query["function"], query["symbol"], query["outputsize"]) == (
        "TIME_SERIES_DAILY", "AAPL", "full",
    )  # fmt: skip
    assert (job.status, job.records_processed, job.errors_count) == (
        "succeeded", len(wanted) - 1, 1,
    )  # fmt: skip
    records = await _read(settings, "market.bars.raw", lambda rs: len(rs) >= len(wanted) - 1)
    days = sorted(
        dt.datetime.fromtimestamp(Bar.model_validate_json(r.value).start / 1e9, dt.UTC)
        .date()
        .isoformat()
        for r in records
    )
    assert days == [d for d in wanted if d != "2025-07-01"]
    letters = await _read(settings, "market.deadletter", lambda rs: len(rs) >= 1)
    letter = DeadLetter.model_validate_json(letters[0].value)
    assert (letter.reason, letter.topic, letter.key) == ("malformed", "vendor:alphavantage", "AAPL")
    assert "2025-07-01" in letter.detail
    assert "n/a" in letter.payload


async def test_newsapi_backfill_sends_the_dates_and_publishes_headlines(
    services: Settings, pool: asyncpg.Pool
) -> None:
    articles = orjson.loads(fixture(NEWSAPI))["articles"]
    on_the_day = [a for a in articles if a["publishedAt"].startswith("2023-03-03")]
    assert 0 < len(on_the_day) < len(articles)  # the page also has the day before
    async with fake_vendor(lambda _request: Answer(fixture(NEWSAPI))) as vendor:
        settings = _settings(services, vendor.url)
        request = Backfill(
            "newsapi", ["AAPL"], dt.date(2023, 3, 3), dt.date(2023, 3, 3), data="news"
        )
        job = await backfill(settings, request, progress=False)
    query = vendor.requests[0].query
    assert (query["q"], query["from"], query["to"]) == ("AAPL", "2023-03-03", "2023-03-03")
    assert (job.status, job.data_type, job.records_processed) == (
        "succeeded", "news", len(on_the_day),
    )  # fmt: skip
    records = await _read(settings, "market.news", lambda rs: len(rs) >= len(on_the_day))
    items = [NewsItem.model_validate_json(r.value) for r in records]
    assert sorted(i.url for i in items) == sorted(a["url"] for a in on_the_day)
    assert {(r.key, i.symbol, i.provider) for r, i in zip(records, items, strict=True)} == {
        (b"AAPL", "AAPL", "newsapi")
    }


async def _job_when(pool: asyncpg.Pool, symbols: list[str], status: str) -> Job:
    jobs = JobRepository(pool)
    deadline = asyncio.get_running_loop().time() + 30
    while asyncio.get_running_loop().time() < deadline:
        for job in await jobs.recent(limit=200):
            if job.symbols == symbols and job.status == status:
                return job
        await asyncio.sleep(0.1)  # polling the job table with a deadline
    raise TimeoutError(f"no {status} job for {symbols}")


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_polygon_stream_publishes_frames_bars_and_dead_letters_until_cancelled(
    services: Settings, pool: asyncpg.Pool
) -> None:
    symbol = unique("P").upper().replace("-", "")[:10]

    def ours(name: str) -> bytes:
        return orjson.dumps([dict(e, sym=symbol) for e in orjson.loads(fixture(f"polygon/{name}"))])

    async def handler(ws: ServerConnection, _n: int) -> None:
        await ws_authenticated(ws, [])
        await ws.send(ours("ws_trades_one.json").decode())
        await ws.send(ours("ws_quote.json").decode())
        await ws.send(ours("ws_minute_agg.json").decode())
        await ws.send(orjson.dumps([{"ev": "XQ", "sym": symbol}]).decode())
        await ws.wait_closed()

    async with ws_vendor(handler) as (url, _auths):
        settings = _settings(services, "http://unused", polygon_ws_url=url)
        task = asyncio.create_task(stream_polygon(settings, [symbol], ["T", "Q", "AM"], 10))
        raw = await _read(settings, "market.raw", lambda rs: len(rs) >= 2)
        bars = await _read(settings, "market.bars.raw", lambda rs: len(rs) >= 1)
        letters = await _read(settings, "market.deadletter", lambda rs: len(rs) >= 1)
        await _job_when(pool, [symbol], "running")
        await _cancel(task)
    frames = [Frame.model_validate_json(r.value) for r in raw]
    assert sorted(e.kind for f in frames for e in f.events) == ["quote", "trade"]
    assert {r.key for r in raw + bars} == {symbol.encode()}
    assert Bar.model_validate_json(bars[0].value).granularity == "1m"
    assert DeadLetter.model_validate_json(letters[0].value).reason == "unknown_event"
    job = await _job_when(pool, [symbol], "cancelled")
    assert (job.data_type, job.records_processed, job.errors_count) == ("stream:polygon", 3, 1)


async def test_news_polling_publishes_each_headline_once_and_survives_a_vendor_error(
    services: Settings, pool: asyncpg.Pool
) -> None:
    symbol = unique("N").upper().replace("-", "")[:10]
    calls = [0]
    four_polls = asyncio.Event()

    def answer(_request: web.Request) -> Answer:
        calls[0] += 1
        if calls[0] >= 4:
            four_polls.set()
        if calls[0] == 2:
            # NewsAPI's documented error shape; a refused key is not retried
            error = {"status": "error", "code": "apiKeyInvalid", "message": "Your key is invalid"}
            return Answer(orjson.dumps(error), status=401)
        return Answer(fixture(NEWSAPI))

    async with fake_vendor(answer) as vendor:
        settings = _settings(services, vendor.url)
        task = asyncio.create_task(poll_news(settings, "newsapi", [symbol], interval_s=0.05))
        await asyncio.wait_for(four_polls.wait(), 30)
        await _job_when(pool, [symbol], "running")
        await _cancel(task)
    assert calls[0] >= 4
    job = await _job_when(pool, [symbol], "cancelled")
    assert (job.data_type, job.records_processed) == ("stream:news", 20)
    assert job.errors_count >= 1
    records = await _read(settings, "market.news", lambda rs: len(rs) >= 20)
    assert len({NewsItem.model_validate_json(r.value).id for r in records}) == len(records) == 20


async def test_the_ingest_command_reports_the_job_and_fails_with_it(services: Settings) -> None:
    def answer(request: web.Request) -> Answer:
        if request.query.get("symbol") == "NOPE":
            error = {"Error Message": "Invalid API call. Please retry or visit the documentation"}
            return Answer(orjson.dumps(error))  # Alpha Vantage's errors come with HTTP 200
        return Answer(fixture(AV_DAILY))

    async with fake_vendor(answer) as vendor:
        env = {
            "MARKETPULSE_TOPIC_PREFIX": unique("ingest") + ".",
            "MARKETPULSE_ALPHAVANTAGE_URL": vendor.url,
            "MARKETPULSE_ALPHAVANTAGE_API_KEY": "test-key",
        }
        argv = ["-m", "marketpulse.cli", "ingest", "--provider", "alphavantage", "--symbols"]
        dates = ["--from", "2025-07-01", "--to", "2025-07-03"]
        results = []
        for symbols in ("aapl", "aapl,nope"):
            process = await asyncio.create_subprocess_exec(
                sys.executable, *argv, symbols, *dates, env={**os.environ, **env},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _out, err = await asyncio.wait_for(process.communicate(), 120)
            results.append((process.returncode, err.decode()))
    (ok, ok_err), (failed, failed_err) = results
    assert ok == 0, ok_err
    assert "succeeded: 3 records, 0 errors" in ok_err
    assert failed == 1
    assert "failed: 3 records, 1 errors" in failed_err
