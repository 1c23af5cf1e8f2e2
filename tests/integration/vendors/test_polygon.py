"""The Polygon REST client against a local server that answers in Polygon's formats."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from aiohttp import web

from marketpulse.policy import Backoff, CircuitBreaker, TokenBucket
from marketpulse.vendors.http import Policy, VendorError
from marketpulse.vendors.polygon import Polygon
from tests.vendor_helpers import Answer, fake_vendor, fixture

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
        return Answer(fixture(f"{PG}/aggs_range_1_day.json"))
    if path.startswith("/v2/last/nbbo/"):
        return Answer(fixture(f"{PG}/last_nbbo.json"))
    if path.startswith("/v2/last/trade/"):
        return Answer(fixture(f"{PG}/last_trade.json"))
    return Answer(fixture(f"{PG}/reference_tickers.json"))


async def test_day_aggregates_become_utc_day_bars() -> None:
    async with fake_vendor(_route) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.aggs(
            "AAPL", 1, "day", dt.date(2023, 3, 3), dt.date(2023, 3, 6)
        )
        await client.close()
    assert vendor.requests[0].query["apiKey"] == "test-key"
    assert rejected == []
    # t = 1677819600000 ms is 2023-03-03 00:00 US/Eastern; our 1d bar is 2023-03-03 00:00 UTC
    day = int(dt.datetime(2023, 3, 3, tzinfo=dt.UTC).timestamp()) * 10**9
    assert [b.start for b in bars] == [day, day + 3 * 86_400 * 10**9]  # Friday, then Monday
    first = bars[0]
    assert (first.open, first.high, first.low, first.close) == (148.04, 151.11, 147.33, 151.03)
    assert (first.volume, first.vwap, first.trades) == (70732297.0, 149.8582, 556432)


def _utc_day(year: int, month: int, day: int) -> int:
    return int(dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp()) * 10**9


@pytest.mark.parametrize(
    ("symbol", "name", "days"),
    [
        # stocks and indices: t is midnight New York of the trading date
        ("AAPL", "aggs_range_1_day.json", [_utc_day(2023, 3, 3), _utc_day(2023, 3, 6)]),
        ("I:SPX", "aggs_index_1_day.json", [_utc_day(2023, 3, 3), _utc_day(2023, 3, 6)]),
        # crypto and forex: t is midnight UTC, and a Saturday is a day like any other
        ("X:BTCUSD", "aggs_crypto_1_day.json", [_utc_day(2023, 3, 3), _utc_day(2023, 3, 4)]),
        ("C:EURUSD", "aggs_forex_1_day.json", [_utc_day(2023, 3, 3)]),
    ],
)
async def test_each_asset_class_s_daily_bar_lands_on_its_own_day(
    symbol: str, name: str, days: list[int]
) -> None:
    async with fake_vendor(lambda _r: Answer(fixture(f"{PG}/{name}"))) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.aggs(
            symbol, 1, "day", dt.date(2023, 3, 3), dt.date(2023, 3, 6)
        )
        await client.close()
    assert rejected == []
    assert [b.start for b in bars] == days
    assert {b.symbol for b in bars} == {symbol}


async def test_an_index_bar_has_no_volume_and_a_stock_bar_must_have_one() -> None:
    index = fixture(f"{PG}/aggs_index_1_day.json")
    async with fake_vendor(lambda _r: Answer(index)) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.aggs(
            "I:SPX", 1, "day", dt.date(2023, 3, 3), dt.date(2023, 3, 6)
        )
        # the same rows as a stock's: a bar without volume is malformed there
        stock_bars, stock_rejected = await client.aggs(
            "SPY", 1, "day", dt.date(2023, 3, 3), dt.date(2023, 3, 6)
        )
        await client.close()
    assert rejected == []
    assert [(b.open, b.close, b.volume, b.vwap, b.trades) for b in bars] == [
        (3998.02, 4045.64, 0.0, None, 0),
        (4055.15, 4048.42, 0.0, None, 0),
    ]
    assert stock_bars == []
    assert [r.reason for r in stock_rejected] == ["malformed", "malformed"]


async def test_pages_are_followed_with_the_key_added_again() -> None:
    page = orjson.loads(fixture(f"{PG}/aggs_range_1_minute_page.json"))
    pages: list[bytes] = []

    def answer(request: web.Request) -> Answer:
        if "cursor" in request.query:
            pages.append(request.query["apiKey"].encode())
            return Answer(fixture(f"{PG}/aggs_empty.json"))
        first = dict(
            page, next_url=f"{vendor_url[0]}/v2/aggs/ticker/AAPL/range/1/minute/x/y?cursor=abc"
        )
        return Answer(orjson.dumps(first))

    vendor_url = [""]
    async with fake_vendor(answer) as vendor:
        vendor_url[0] = vendor.url
        client = _client(vendor.url)
        bars, _ = await client.aggs("AAPL", 1, "minute", dt.date(2023, 3, 3), dt.date(2023, 3, 3))
        await client.close()
    assert len(bars) == len(page["results"])
    assert pages == [b"test-key"]


async def test_minute_aggregates_keep_their_ms_start() -> None:
    body = orjson.loads(fixture(f"{PG}/aggs_range_1_minute_page.json"))
    async with fake_vendor(lambda _r: Answer(orjson.dumps({**body, "next_url": None}))) as vendor:
        client = _client(vendor.url)
        bars, _ = await client.aggs("AAPL", 1, "minute", dt.date(2023, 3, 3), dt.date(2023, 3, 3))
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
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (148.86, 148.88, 3.0, 7.0)
    # nanoseconds past 2**53, which a float would round: kept to the last digit
    assert quote.ts == 1677855243120493871
    assert (trade.price, trade.size, trade.conditions, trade.ts) == (
        148.87,
        100.0,
        [14, 41],
        1677855243117354123,
    )
    assert [(t.ticker, t.primary_exchange) for t in tickers] == [("A", "XNYS"), ("AAPL", "XNAS")]


@pytest.mark.parametrize(
    ("name", "status", "reason"),
    [
        ("error_api_key_missing.json", 401, "unauthorized"),
        ("error_not_authorized.json", 403, "forbidden"),
        ("error_not_authorized.json", 200, "forbidden"),
        ("error_api_key_missing.json", 200, "bad_request"),
    ],
)
async def test_error_envelopes(name: str, status: int, reason: str) -> None:
    async with fake_vendor(lambda _r: Answer(fixture(f"{PG}/{name}"), status)) as vendor:
        client = _client(vendor.url)
        with pytest.raises(VendorError) as caught:
            await client.last_trade("AAPL")
        await client.close()
    assert caught.value.reason == reason
    assert len(vendor.requests) == 1  # not retried


async def test_429_is_retried_then_malformed_json_is_refused() -> None:
    limited = fixture(f"{PG}/error_rate_limited.json")
    cut = b'{"results": {"T": "AAPL", "p":'
    answers = [Answer(limited, 429, {"Retry-After": "1"}), Answer(cut)]
    async with fake_vendor(lambda _r: answers.pop(0)) as vendor:
        client = _client(vendor.url)
        with pytest.raises(VendorError) as caught:
            await client.last_trade("AAPL")
        await client.close()
    assert caught.value.reason == "malformed"
    assert len(vendor.requests) == 2


async def test_empty_aggregates_have_no_results_key() -> None:
    empty = fixture(f"{PG}/aggs_empty.json")
    async with fake_vendor(lambda _r: Answer(empty)) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.aggs(
            "ZVZZT", 1, "day", dt.date(2023, 1, 2), dt.date(2023, 1, 6)
        )
        await client.close()
    assert (bars, rejected) == ([], [])


async def test_a_bad_aggregate_is_rejected_and_the_rest_kept() -> None:
    body = orjson.loads(fixture(f"{PG}/aggs_range_1_day.json"))
    del body["results"][0]["c"]
    async with fake_vendor(lambda _r: Answer(orjson.dumps(body))) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.aggs(
            "AAPL", 1, "day", dt.date(2023, 3, 3), dt.date(2023, 3, 6)
        )
        await client.close()
    assert len(bars) == 1
    assert [r.reason for r in rejected] == ["malformed"]


async def test_condition_rules_are_read_over_every_page_for_trades_only() -> None:
    first = orjson.loads(fixture(f"{PG}/reference_conditions.json"))

    def answer(request: web.Request) -> Answer:
        assert request.path == "/v3/reference/conditions"
        if "cursor" in request.query:
            return Answer(fixture(f"{PG}/reference_conditions_page2.json"))
        assert (request.query["asset_class"], request.query["data_type"]) == ("stocks", "trade")
        next_url = f"{vendor.url}/v3/reference/conditions?cursor=YXA9Mg"
        return Answer(orjson.dumps({**first, "next_url": next_url}))

    async with fake_vendor(answer) as vendor:
        client = _client(vendor.url)
        table = await client.conditions()
        await client.close()
    assert table.source == "polygon"
    # bits: 1 open/close, 2 high/low, 4 volume; 12 is Form T (its quote namesake left out);
    # the short-sale indicator has no rules, so no say
    assert table.rules == {
        "2": 4, "12": 4, "14": 7, "37": 4, "10": 6, "15": 0, "32": 6, "41": 7, "60": 7
    }  # fmt: skip
    assert [r.query.get("apiKey") for r in vendor.requests] == ["test-key", "test-key"]


async def test_an_empty_conditions_answer_is_refused() -> None:
    async with fake_vendor(lambda _r: Answer(b'{"results": [], "status": "OK"}')) as vendor:
        client = _client(vendor.url)
        with pytest.raises(VendorError, match="no trade conditions"):
            await client.conditions()
        await client.close()
