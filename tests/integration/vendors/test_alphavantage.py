"""The Alpha Vantage client against a local server that answers in Alpha Vantage's formats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import orjson
import pytest
from aiohttp import web

from marketpulse import metrics
from marketpulse.policy import Backoff, CircuitBreaker, TokenBucket
from marketpulse.vendors.alphavantage import AlphaVantage
from marketpulse.vendors.http import Policy, VendorError
from tests.vendor_helpers import Answer, fake_vendor, fixture, fixtures_of

AV = "alphavantage"
BY_FUNCTION = {
    "GLOBAL_QUOTE": f"{AV}/global_quote.json",
    "SYMBOL_SEARCH": f"{AV}/symbol_search.json",
    "TIME_SERIES_INTRADAY": f"{AV}/time_series_intraday_5min_2021.json",
    "TIME_SERIES_DAILY": f"{AV}/time_series_daily.json",
    "TIME_SERIES_DAILY_ADJUSTED": f"{AV}/time_series_daily_adjusted_dividend.json",
}
# every error fixture, and what the client must make of it: (reason, retriable)
ERRORS = {
    "error_note_per_minute_limit.json": ("rate_limited", True),
    "error_information_daily_limit.json": ("daily_limit", False),
    "error_information_burst.json": ("rate_limited", True),
    "error_information_demo_key.json": ("missing_key", False),
    "error_message_apikey_invalid.json": ("unauthorized", False),
    "error_information_premium_endpoint.json": ("premium_endpoint", False),
    "error_message_invalid_call_intraday.json": ("invalid_call", False),
    "error_message_invalid_call_daily.json": ("invalid_call", False),
    "body_python_repr.txt": ("malformed", False),
    "body_wrapped_in_string.json": ("unexpected_payload", False),
}
OTHER_SERIES = {
    "time_series_intraday_1min_2017.json": lambda c: c.intraday("IBM", "1min"),
    "time_series_intraday_5min_2025.json": lambda c: c.intraday("IBM", "5min"),
    "time_series_daily_adjusted_split.json": lambda c: c.daily("TSLA", True),
}


async def _no_wait(_seconds: float) -> None:
    return None


def _client(
    url: str,
    retries: int = 2,
    breaker: int = 5,
    sleep: Callable[[float], Awaitable[None]] = _no_wait,
) -> AlphaVantage:
    policy = Policy(
        quotas={"minute": TokenBucket(1000, 60.0)},
        retries=retries,
        backoff=Backoff(0.0, 0.0),
        breaker=CircuitBreaker(breaker, 60.0),
    )
    return AlphaVantage("test-key", url, policy=policy, sleep=sleep)


def _by_function(request: web.Request) -> Answer:
    return Answer(fixture(BY_FUNCTION[request.query["function"]]))


async def test_global_quote_and_search() -> None:
    async with fake_vendor(_by_function) as vendor:
        client = _client(vendor.url)
        quote = await client.global_quote("IBM")
        matches = await client.search("tesco")
        await client.close()
    assert vendor.requests[0].query["apikey"] == "test-key"
    assert (quote.symbol, quote.price, quote.volume) == ("IBM", 219.9, 4873212.0)
    assert (quote.change, quote.change_percent) == (-2.94, pytest.approx(-1.3193))  # signed, "%"
    assert quote.latest_trading_day == dt.date(2024, 11, 29)
    scores = [m.match_score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert (matches[0].symbol, matches[0].match_score) == ("TSCO", pytest.approx(0.8889))
    london = next(m for m in matches if m.symbol == "TSCO.LON")
    assert (london.region, london.currency) == ("United Kingdom", "GBX")


async def test_an_unknown_symbol_quotes_an_empty_object() -> None:
    body = fixture(f"{AV}/global_quote_unknown_symbol.json")
    async with fake_vendor(lambda _r: Answer(body)) as vendor:
        client = _client(vendor.url)
        with pytest.raises(VendorError) as caught:
            await client.global_quote("NOPE")
        await client.close()
    assert (caught.value.reason, caught.value.retriable) == ("not_found", False)


async def test_intraday_bars_are_end_labelled_eastern_times() -> None:
    async with fake_vendor(_by_function) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.intraday("IBM", "5min")
        await client.close()
    raw = orjson.loads(fixture(BY_FUNCTION["TIME_SERIES_INTRADAY"]))["Time Series (5min)"]
    assert rejected == []
    assert len(bars) == len(raw)
    assert [b.start for b in bars] == sorted(b.start for b in bars)
    last = bars[-1]
    # "2021-07-23 20:00:00" US/Eastern (EDT, UTC-4) ends the last bar: 2021-07-24 00:00 UTC
    assert last.end == int(dt.datetime(2021, 7, 24, tzinfo=dt.UTC).timestamp()) * 10**9
    assert last.end - last.start == 5 * 60 * 10**9
    newest = raw["2021-07-23 20:00:00"]
    assert (last.open, last.close, last.volume) == tuple(
        float(newest[k]) for k in ("1. open", "4. close", "5. volume")
    )
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)


async def test_daily_and_adjusted_daily_bars() -> None:
    async with fake_vendor(_by_function) as vendor:
        client = _client(vendor.url)
        daily, _ = await client.daily("IBM")
        adjusted, rejected = await client.daily("IBM", adjusted=True)
        await client.close()
    assert daily[-1].granularity == "1d"
    assert daily[-1].start == int(dt.datetime(2025, 7, 18, tzinfo=dt.UTC).timestamp()) * 10**9
    newest = orjson.loads(fixture(BY_FUNCTION["TIME_SERIES_DAILY"]))["Time Series (Daily)"]
    assert daily[-1].close == float(newest["2025-07-18"]["4. close"])
    assert rejected == []
    raw = orjson.loads(fixture(BY_FUNCTION["TIME_SERIES_DAILY_ADJUSTED"]))["Time Series (Daily)"]
    by_day = {
        dt.datetime.fromtimestamp(b.start / 1e9, dt.UTC).date().isoformat(): b for b in adjusted
    }
    before, after = raw["2021-05-06"], raw["2021-05-07"]  # 2021-05-07: ex-dividend
    assert by_day["2021-05-06"].close == pytest.approx(float(before["5. adjusted close"]))
    assert by_day["2021-05-06"].close != pytest.approx(float(before["4. close"]))  # the dividend
    assert by_day["2021-05-07"].close == pytest.approx(float(after["4. close"]))


@pytest.mark.parametrize(("name", "expected"), sorted(ERRORS.items()))
async def test_every_error_fixture_gets_its_reason(name: str, expected: tuple[str, bool]) -> None:
    async with fake_vendor(lambda _r: Answer(fixture(f"{AV}/{name}"))) as vendor:
        client = _client(vendor.url, retries=1)
        with pytest.raises(VendorError) as caught:
            await client.daily("IBM")
        await client.close()
    assert (caught.value.reason, caught.value.retriable) == expected
    assert len(vendor.requests) == (2 if expected[1] else 1)  # retriable ones were retried once


def test_every_fixture_is_covered() -> None:
    covered = (
        {p.split("/")[1] for p in BY_FUNCTION.values()}
        | set(ERRORS)
        | set(OTHER_SERIES)
        | {"global_quote_unknown_symbol.json"}
    )
    assert {p.name for p in fixtures_of(AV)} == covered


@pytest.mark.parametrize("name", sorted(OTHER_SERIES))
async def test_the_other_series_parse_whole(name: str) -> None:
    body = fixture(f"{AV}/{name}")
    async with fake_vendor(lambda _r: Answer(body)) as vendor:
        client = _client(vendor.url)
        bars, rejected = await OTHER_SERIES[name](client)
        await client.close()
    series = next(v for k, v in orjson.loads(body).items() if "Time Series" in k)
    assert (len(bars), rejected) == (len(series), [])
    assert [b.start for b in bars] == sorted(b.start for b in bars)


async def test_current_intraday_keys_are_bar_starts() -> None:
    """Current responses key each bar by its start: the last extended-hours bar is keyed 19:55,
    and the bar keyed 16:00 holds the closing auction, so it closes at the day's close."""
    intraday = fixture(f"{AV}/time_series_intraday_5min_2025.json")
    daily = orjson.loads(fixture(BY_FUNCTION["TIME_SERIES_DAILY"]))["Time Series (Daily)"]
    async with fake_vendor(lambda _r: Answer(intraday)) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.intraday("IBM", "5min")
        await client.close()
    assert rejected == []
    # "2025-07-18 19:55:00" EDT starts the last bar, which ends at 20:00 EDT, 00:00 UTC
    assert (
        bars[-1].start == int(dt.datetime(2025, 7, 18, 23, 55, tzinfo=dt.UTC).timestamp()) * 10**9
    )
    assert bars[-1].end == int(dt.datetime(2025, 7, 19, tzinfo=dt.UTC).timestamp()) * 10**9
    closing = next(b for b in bars if b.start == int(
        dt.datetime(2025, 7, 18, 20, 0, tzinfo=dt.UTC).timestamp()) * 10**9)  # fmt: skip
    assert closing.close == float(daily["2025-07-18"]["4. close"])


async def test_a_notice_to_slow_down_is_waited_out_and_a_demo_key_fails_at_once() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    answers = [Answer(fixture(f"{AV}/error_information_burst.json")),
               Answer(fixture(BY_FUNCTION["TIME_SERIES_DAILY"]))]  # fmt: skip
    async with fake_vendor(lambda _r: answers.pop(0)) as vendor:
        client = _client(vendor.url, sleep=record)
        bars, _ = await client.daily("IBM")
        await client.close()
    assert len(bars) == 100
    assert waits == [1.5]  # one request a second: a short wait, not a minute

    demo = fixture(f"{AV}/error_information_demo_key.json")
    async with fake_vendor(lambda _r: Answer(demo)) as vendor:
        client = _client(vendor.url, retries=3)
        with pytest.raises(VendorError) as caught:
            await client.daily("IBM")
        await client.close()
    assert len(vendor.requests) == 1
    assert caught.value.detail.startswith("set MARKETPULSE_ALPHAVANTAGE_API_KEY to your own key")
    assert "demo purposes only" in caught.value.detail  # the vendor's words, kept


async def test_a_winter_key_is_eastern_standard_time() -> None:
    body = fixture(f"{AV}/time_series_intraday_1min_2017.json")
    async with fake_vendor(lambda _r: Answer(body)) as vendor:
        client = _client(vendor.url)
        bars, _ = await client.intraday("IBM", "1min")
        await client.close()
    # "2017-12-18 14:56:00" US/Eastern is EST (UTC-5) in December: 19:56 UTC
    assert bars[-1].end == int(dt.datetime(2017, 12, 18, 19, 56, tzinfo=dt.UTC).timestamp()) * 10**9


async def test_split_adjusted_bars_are_continuous_across_the_split() -> None:
    body = fixture(f"{AV}/time_series_daily_adjusted_split.json")
    raw = orjson.loads(body)["Time Series (Daily)"]
    async with fake_vendor(lambda _r: Answer(body)) as vendor:
        client = _client(vendor.url)
        bars, _ = await client.daily("TSLA", adjusted=True)
        await client.close()
    by_day = {dt.datetime.fromtimestamp(b.start / 1e9, dt.UTC).date().isoformat(): b for b in bars}
    assert raw["2020-08-31"]["8. split coefficient"] == "5.0"
    before, on = by_day["2020-08-28"], by_day["2020-08-31"]
    assert float(raw["2020-08-28"]["4. close"]) / on.open > 4  # the raw prices jump 5 for 1
    assert 0.8 < before.close / on.open < 1.25  # the adjusted ones do not
    # volume scales the other way, by the ratio of the rounded adjusted close to the close
    assert before.volume == pytest.approx(5 * float(raw["2020-08-28"]["6. volume"]), rel=1e-5)


async def test_a_bad_row_is_rejected_and_the_rest_kept() -> None:
    body = orjson.loads(fixture(BY_FUNCTION["TIME_SERIES_INTRADAY"]))
    series = body["Time Series (5min)"]
    broken = sorted(series)[3]
    series[broken]["4. close"] = "n/a"
    async with fake_vendor(lambda _r: Answer(orjson.dumps(body))) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.intraday("IBM", "5min")
        await client.close()
    assert len(bars) == len(series) - 1
    assert [r.reason for r in rejected] == ["malformed"]
    assert rejected[0].detail.startswith(broken)


def _sequence(*answers: Answer) -> Callable[[web.Request], Answer]:
    queue = list(answers)
    return lambda _r: queue.pop(0) if len(queue) > 1 else queue[0]


async def test_429_and_5xx_are_retried_honouring_retry_after() -> None:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    answers = _sequence(
        Answer(b"", 429, {"Retry-After": "7"}),
        Answer(b"oops", 503),
        Answer(fixture(BY_FUNCTION["GLOBAL_QUOTE"])),
    )
    before = metrics.VENDOR_REQUESTS.labels(AV, "retried")._value.get()
    async with fake_vendor(answers) as vendor:
        client = _client(vendor.url, retries=3)
        client.http._sleep = record
        client.http.policy.max_wait_s = 60.0
        quote = await client.global_quote("IBM")
        await client.close()
    assert quote.symbol == "IBM"
    assert len(vendor.requests) == 3
    assert slept[0] == 7.0  # Retry-After, not the backoff
    assert metrics.VENDOR_REQUESTS.labels(AV, "retried")._value.get() == before + 2


async def test_the_breaker_opens_after_repeated_failures() -> None:
    async with fake_vendor(lambda _r: Answer(b"down", 500)) as vendor:
        client = _client(vendor.url, retries=0, breaker=3)
        for _ in range(3):
            with pytest.raises(VendorError, match="server_error"):
                await client.global_quote("IBM")
        with pytest.raises(VendorError) as caught:
            await client.global_quote("IBM")
        await client.close()
    assert caught.value.reason == "circuit_open"
    assert len(vendor.requests) == 3  # the open circuit kept the fourth call home


async def test_our_quota_makes_requests_wait_or_refuses_long_waits() -> None:
    now = [0.0]
    slept: list[float] = []

    async def advance(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    async with fake_vendor(_by_function) as vendor:
        client = AlphaVantage("k", vendor.url, per_minute=2, per_day=3, sleep=advance)
        client.http._clock = lambda: now[0]
        for _ in range(3):
            await client.global_quote("IBM")
        with pytest.raises(VendorError) as caught:
            await client.global_quote("IBM")
        await client.close()
    assert slept == [pytest.approx(30.0)]  # the third call waited for the minute's next token
    assert caught.value.reason == "quota_exhausted"  # the day's 3 are spent: too long to wait
    assert len(vendor.requests) == 3
