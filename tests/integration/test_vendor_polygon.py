"""The Polygon REST client against a local server that answers with the recorded payloads."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from aiohttp import web

from marketpulse.policy import Backoff, CircuitBreaker, TokenBucket
from marketpulse.vendors.http import Policy, VendorError
from marketpulse.vendors.polygon import Polygon
from tests.vendor_helpers import Answer, fake_vendor, sample

PG = "polygon"


async def _no_wait(_seconds: float) -> None:
    return None


def _client(url: str) -> Polygon:
    policy = Policy(
        quotas={"minute": TokenBucket(1000, 60.0)},
        retries=1,
        backoff=Backoff(0.0, 0.0),
        breaker=CircuitBreaker(5, 60.0),
    )
    return Polygon("test-key", url, policy=policy, sleep=_no_wait)


def _route(request: web.Request) -> Answer:
    path = request.path
    if path.startswith("/v2/aggs/"):
        return Answer(sample(f"{PG}/rest_aggs_range_1_day__client-python_mock.json"))
    if path.startswith("/v2/last/nbbo/"):
        return Answer(sample(f"{PG}/rest_last_nbbo__client-python_mock.json"))
    if path.startswith("/v2/last/trade/"):
        return Answer(sample(f"{PG}/rest_last_trade__client-python_mock.json"))
    return Answer(
        sample(f"{PG}/rest_v3_reference_tickers__client-python_mock__massive_rebrand.json")
    )


async def test_day_aggregates_become_utc_day_bars() -> None:
    async with fake_vendor(_route) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.aggs(
            "AAPL", 1, "day", dt.date(2005, 4, 1), dt.date(2005, 4, 4)
        )
        await client.close()
    assert vendor.requests[0].query["apiKey"] == "test-key"
    assert rejected == []
    # t = 1112331600000 ms is 2005-04-01 00:00 US/Eastern; our 1d bar is 2005-04-01 00:00 UTC
    day = int(dt.datetime(2005, 4, 1, tzinfo=dt.UTC).timestamp()) * 10**9
    assert [b.start for b in bars] == [day, day + 3 * 86_400 * 10**9]
    first = bars[0]
    assert (first.open, first.high, first.low, first.close) == (1.5032, 1.5064, 1.4489, 1.4604)
    assert (first.volume, first.vwap, first.trades) == (642646396.0, 1.469, 82132)


async def test_pages_are_followed_with_the_key_added_again() -> None:
    spec = orjson.loads(sample(f"{PG}/spec_example_rest_aggs_range.json"))
    pages: list[bytes] = []

    def answer(request: web.Request) -> Answer:
        if "cursor" in request.query:
            pages.append(request.query["apiKey"].encode())
            return Answer(
                sample(f"{PG}/rest_aggs_empty_no_results_key__polygon-io_issues_232.json")
            )
        page = dict(
            spec, next_url=f"{vendor_url[0]}/v2/aggs/ticker/AAPL/range/1/day/x/y?cursor=abc"
        )
        return Answer(orjson.dumps(page))

    vendor_url = [""]
    async with fake_vendor(answer) as vendor:
        vendor_url[0] = vendor.url
        client = _client(vendor.url)
        bars, _ = await client.aggs("AAPL", 1, "day", dt.date(2020, 1, 2), dt.date(2020, 1, 10))
        await client.close()
    assert len(bars) == len(spec["results"])
    assert pages == [b"test-key"]


async def test_minute_aggregates_keep_their_ms_start() -> None:
    body = orjson.loads(sample(f"{PG}/spec_example_rest_aggs_range.json"))
    async with fake_vendor(lambda _r: Answer(orjson.dumps({**body, "next_url": None}))) as vendor:
        client = _client(vendor.url)
        bars, _ = await client.aggs("AAPL", 1, "minute", dt.date(2020, 1, 2), dt.date(2020, 1, 3))
        await client.close()
    assert [b.start for b in bars] == [r["t"] * 1_000_000 for r in body["results"]]
    assert {b.granularity for b in bars} == {"1m"}


async def test_last_quote_and_trade_keep_ns_timestamps_exact() -> None:
    async with fake_vendor(_route) as vendor:
        client = _client(vendor.url)
        quote = await client.last_quote("AAPL")
        trade = await client.last_trade("AAPL")
        tickers = await client.tickers("a")
        await client.close()
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (155.65, 155.66, 1.0, 14.0)
    assert quote.ts == 1652192754171838500
    assert (trade.price, trade.size, trade.conditions, trade.ts) == (
        166.25,
        2.0,
        [12, 37],
        1651179319310617300,
    )
    assert tickers[0].ticker == "A"
    assert tickers[0].primary_exchange == "XNYS"


@pytest.mark.parametrize(
    ("name", "status", "reason"),
    [
        ("rest_error_api_key_not_provided__polygon-io_issues_219.json", 401, "unauthorized"),
        ("rest_error_403_not_authorized__OpenBB_issue_4747.json", 403, "forbidden"),
        ("rest_error_403_not_authorized__OpenBB_issue_4747.json", 200, "forbidden"),
        ("rest_error_api_key_not_provided__polygon-io_issues_219.json", 200, "bad_request"),
    ],
)
async def test_error_envelopes(name: str, status: int, reason: str) -> None:
    async with fake_vendor(lambda _r: Answer(sample(f"{PG}/{name}"), status)) as vendor:
        client = _client(vendor.url)
        with pytest.raises(VendorError) as caught:
            await client.last_trade("AAPL")
        await client.close()
    assert caught.value.reason == reason
    assert len(vendor.requests) == 1  # not retried


async def test_429_is_retried_then_malformed_json_is_refused() -> None:
    # the documented 429 envelope (no recording exists; SOURCES.md quotes the text)
    text = orjson.dumps(
        {"status": "ERROR", "request_id": "x", "error": "You've exceeded the maximum requests"}
    )
    answers = [Answer(text, 429, {"Retry-After": "1"}), Answer(b'{"results": {"T": "AAPL", "p":')]
    async with fake_vendor(lambda _r: answers.pop(0)) as vendor:
        client = _client(vendor.url)
        with pytest.raises(VendorError) as caught:
            await client.last_trade("AAPL")
        await client.close()
    assert caught.value.reason == "malformed"
    assert len(vendor.requests) == 2


async def test_empty_aggregates_have_no_results_key() -> None:
    empty = sample(f"{PG}/rest_aggs_empty_no_results_key__polygon-io_issues_232.json")
    async with fake_vendor(lambda _r: Answer(empty)) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.aggs(
            "AAMC", 1, "day", dt.date(2023, 1, 2), dt.date(2023, 1, 6)
        )
        await client.close()
    assert (bars, rejected) == ([], [])


async def test_a_bad_aggregate_is_rejected_and_the_rest_kept() -> None:
    body = orjson.loads(sample(f"{PG}/rest_aggs_range_1_day__client-python_mock.json"))
    del body["results"][0]["c"]
    async with fake_vendor(lambda _r: Answer(orjson.dumps(body))) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.aggs(
            "AAPL", 1, "day", dt.date(2005, 4, 1), dt.date(2005, 4, 4)
        )
        await client.close()
    assert len(bars) == 1
    assert [r.reason for r in rejected] == ["malformed"]
