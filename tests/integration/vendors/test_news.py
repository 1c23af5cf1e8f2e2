"""News clients against a local server answering in NewsAPI's and Polygon's news formats."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from aiohttp import web

from marketpulse import metrics
from marketpulse.policy import Backoff, CircuitBreaker, TokenBucket
from marketpulse.vendors.http import Policy, VendorError
from marketpulse.vendors.news_feeds import NewsApi
from marketpulse.vendors.polygon import Polygon
from tests.vendor_helpers import Answer, fake_vendor, fixture

NEWSAPI = "newsapi/everything.json"
POLYGON_NEWS = ("polygon/reference_news.json", "polygon/reference_news_insights.json")


def _policy() -> Policy:
    return Policy(
        quotas={"day": TokenBucket(1000, 86_400.0)},
        retries=1,
        backoff=Backoff(0.0, 0.0),
        breaker=CircuitBreaker(5, 60.0),
    )


async def _no_wait(_seconds: float) -> None:
    return None


async def test_newsapi_articles_become_records_for_the_symbol() -> None:
    async with fake_vendor(lambda _r: Answer(fixture(NEWSAPI))) as vendor:
        client = NewsApi("k", vendor.url, policy=_policy(), sleep=_no_wait)
        items, rejected = await client.headlines("BTC", "bitcoin")
        await client.close()
    articles = orjson.loads(fixture(NEWSAPI))["articles"]
    assert vendor.requests[0].query["q"] == "bitcoin"
    assert (len(items), rejected) == (len(articles), [])
    first = items[0]
    assert first.symbol == "BTC"
    assert first.publisher == "Heise Online"  # its source.id is null
    assert first.author == "Jürgen Schröder"  # non-ASCII kept
    assert first.published_ts == int(dt.datetime(2023, 3, 3, 7, tzinfo=dt.UTC).timestamp()) * 10**9
    assert len({i.id for i in items}) == len({a["url"] for a in articles})
    assert {i.author for i in items if i.publisher == "The Verge"} == {None}  # author null


async def test_newsapi_removed_placeholders_are_dropped_and_counted() -> None:
    body = fixture("newsapi/everything_with_removed.json")
    before = metrics.VENDOR_DROPPED.labels("newsapi", "removed")._value.get()
    async with fake_vendor(lambda _r: Answer(body)) as vendor:
        client = NewsApi("k", vendor.url, policy=_policy(), sleep=_no_wait)
        items, rejected = await client.headlines("NVDA")
        await client.close()
    assert [i.title for i in items] == [
        "A chipmaker's results lift the whole sector before the open"
    ]
    assert rejected == []
    assert metrics.VENDOR_DROPPED.labels("newsapi", "removed")._value.get() - before == 2


@pytest.mark.parametrize(
    ("status", "name", "reason", "retried"),
    [
        (401, "error_api_key_invalid.json", "unauthorized", False),
        (429, "error_rate_limited.json", "rate_limited", True),
        (200, "error_rate_limited.json", "rate_limited", True),
        (200, "error_parameter_invalid.json", "bad_request", False),
    ],
)
async def test_newsapi_errors(status: int, name: str, reason: str, retried: bool) -> None:
    body = fixture(f"newsapi/{name}")
    async with fake_vendor(lambda _r: Answer(body, status)) as vendor:
        client = NewsApi("k", vendor.url, policy=_policy(), sleep=_no_wait)
        with pytest.raises(VendorError) as caught:
            await client.headlines("AAPL")
        await client.close()
    assert caught.value.reason == reason
    assert len(vendor.requests) == (2 if retried else 1)


@pytest.mark.parametrize("name", POLYGON_NEWS)
async def test_polygon_news_gives_one_record_per_ticker(name: str) -> None:
    body = orjson.loads(fixture(name))
    async with fake_vendor(lambda _r: Answer(fixture(name))) as vendor:
        client = Polygon("k", vendor.url, policy=_policy(), sleep=_no_wait)
        items, rejected = await client.news("MSFT")
        await client.close()
    assert vendor.requests[0].query["ticker"] == "MSFT"
    expected = [(t, a["id"]) for a in body["results"] for t in a["tickers"]]
    assert [(i.symbol, i.id) for i in items] == expected
    assert rejected == []
    assert all(i.provider == "polygon" and i.publisher for i in items)


async def test_polygon_news_follows_its_pages_over_a_date_range_and_polls_the_newest_only() -> None:
    first = orjson.loads(fixture("polygon/reference_news_insights.json"))
    last = orjson.loads(fixture("polygon/reference_news.json"))

    def answer(request: web.Request) -> Answer:
        if "cursor" in request.query:
            return Answer(orjson.dumps(last))
        next_url = f"{base[0]}/v2/reference/news?cursor=eyJsaW1pdCI6MX0"
        return Answer(orjson.dumps({**first, "next_url": next_url}))

    base = [""]
    async with fake_vendor(answer) as vendor:
        base[0] = vendor.url
        client = Polygon("k", vendor.url, policy=_policy(), sleep=_no_wait)
        ranged, _ = await client.news("MSFT", start=dt.date(2024, 6, 1), end=dt.date(2024, 6, 30))
        pages = len(vendor.requests)
        newest, _ = await client.news("MSFT")
        await client.close()
    ids = [a["id"] for page in (first, last) for a in page["results"]]
    assert list(dict.fromkeys(i.id for i in ranged)) == list(dict.fromkeys(ids))
    assert pages == 2
    assert vendor.requests[1].query["apiKey"] == "k"  # the cursor URL lacks it: added again
    assert list(dict.fromkeys(i.id for i in newest)) == [a["id"] for a in first["results"]]
    assert len(vendor.requests) == 3
