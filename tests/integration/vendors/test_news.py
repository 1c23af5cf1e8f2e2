"""News clients against a local server answering in NewsAPI's and Polygon's news formats."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

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
