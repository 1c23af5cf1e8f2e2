"""The Alpha Vantage client against a local server that answers with the recorded payloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import orjson
import pytest
from aiohttp import web

from marketpulse import metrics
from marketpulse.policy import Backoff, CircuitBreaker, TokenBucket
from marketpulse.vendors.alphavantage import AlphaVantage
from marketpulse.vendors.http import Policy, VendorError
from tests.vendor_helpers import Answer, fake_vendor, sample, samples_in

AV = "alphavantage"
BY_FUNCTION = {
    "GLOBAL_QUOTE": f"{AV}/global_quote__romeltorres.json",
    "SYMBOL_SEARCH": f"{AV}/symbol_search__romeltorres.json",
    "TIME_SERIES_INTRADAY": f"{AV}/time_series_intraday_5min__rinebob_visvol_TSLA.json",
    "TIME_SERIES_DAILY": f"{AV}/time_series_daily__tylerg21566_AAPL.json",
    "TIME_SERIES_DAILY_ADJUSTED": f"{AV}/time_series_daily_adjusted__rinebob_visvol_AAPL.json",
}
# every error sample, and what the client must make of it: (reason, retriable)
ERRORS = {
    "error_note_rate_limit_per_minute__old_wording.json": ("rate_limited", True),
    "error_information_daily_limit_25_per_day.json": ("rate_limited", False),
    "error_information_premium_endpoint.json": ("premium_endpoint", False),
    "error_message_invalid_api_call__TIME_SERIES_INTRADAY.json": ("invalid_call", False),
    "error_message_invalid_api_call__TIME_SERIES_DAILY.json": ("invalid_call", False),
    "error_information_daily_limit_25_per_day__as_found_python_repr.txt": ("malformed", False),
    "time_series_daily__tylerg21566_AAPL__as_found_wrapper.json": ("unexpected_payload", False),
}


async def _no_wait(_seconds: float) -> None:
    return None


def _client(url: str, retries: int = 2, breaker: int = 5) -> AlphaVantage:
    policy = Policy(
        quotas={"minute": TokenBucket(1000, 60.0)},
        retries=retries,
        backoff=Backoff(0.0, 0.0),
        breaker=CircuitBreaker(breaker, 60.0),
    )
    return AlphaVantage("test-key", url, policy=policy, sleep=_no_wait)


def _by_function(request: web.Request) -> Answer:
    return Answer(sample(BY_FUNCTION[request.query["function"]]))


async def test_global_quote_and_search() -> None:
    async with fake_vendor(_by_function) as vendor:
        client = _client(vendor.url)
        quote = await client.global_quote("MSFT")
        matches = await client.search("BA")
        await client.close()
    assert vendor.requests[0].query["apikey"] == "test-key"
    assert (quote.symbol, quote.price, quote.volume) == ("MSFT", 112.13, 29062853.0)
    assert quote.change_percent == pytest.approx(-0.5852)
    assert quote.latest_trading_day == dt.date(2018, 10, 5)
    assert matches[0].symbol == "BA"
    assert matches[0].match_score == 1.0
    assert "6190.HKG" in {m.symbol for m in matches}


async def test_intraday_bars_are_end_labelled_eastern_times() -> None:
    async with fake_vendor(_by_function) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.intraday("TSLA", "5min")
        await client.close()
    raw = orjson.loads(sample(BY_FUNCTION["TIME_SERIES_INTRADAY"]))["Time Series (5min)"]
    assert rejected == []
    assert len(bars) == len(raw)
    assert [b.start for b in bars] == sorted(b.start for b in bars)
    last = bars[-1]
    # "2021-07-23 20:00:00" US/Eastern (EDT, UTC-4) ends the last bar: 2021-07-24 00:00 UTC
    assert last.end == int(dt.datetime(2021, 7, 24, tzinfo=dt.UTC).timestamp()) * 10**9
    assert last.end - last.start == 5 * 60 * 10**9
    assert (last.open, last.close, last.volume) == (643.39, 643.32, 2232.0)
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)


async def test_daily_and_adjusted_daily_bars() -> None:
    async with fake_vendor(_by_function) as vendor:
        client = _client(vendor.url)
        daily, _ = await client.daily("AAPL")
        adjusted, rejected = await client.daily("AAPL", adjusted=True)
        await client.close()
    assert daily[-1].granularity == "1d"
    assert daily[-1].start == int(dt.datetime(2025, 7, 18, tzinfo=dt.UTC).timestamp()) * 10**9
    newest = orjson.loads(sample(BY_FUNCTION["TIME_SERIES_DAILY"]))["Time Series (Daily)"]
    assert daily[-1].close == float(newest["2025-07-18"]["4. close"])
    assert rejected == []
    raw = orjson.loads(sample(BY_FUNCTION["TIME_SERIES_DAILY_ADJUSTED"]))["Time Series (Daily)"]
    by_day = {
        dt.datetime.fromtimestamp(b.start / 1e9, dt.UTC).date().isoformat(): b for b in adjusted
    }
    before, after = raw["2021-05-06"], raw["2021-05-07"]
    assert by_day["2021-05-06"].close == pytest.approx(float(before["5. adjusted close"]))
    assert by_day["2021-05-06"].close != pytest.approx(float(before["4. close"]))  # the dividend
    assert by_day["2021-05-07"].close == pytest.approx(float(after["4. close"]))


@pytest.mark.parametrize(("name", "expected"), sorted(ERRORS.items()))
async def test_every_error_sample_gets_its_reason(name: str, expected: tuple[str, bool]) -> None:
    async with fake_vendor(lambda _r: Answer(sample(f"{AV}/{name}"))) as vendor:
        client = _client(vendor.url, retries=1)
        with pytest.raises(VendorError) as caught:
            await client.daily("AAPL")
        await client.close()
    assert (caught.value.reason, caught.value.retriable) == expected
    assert len(vendor.requests) == (2 if expected[1] else 1)  # retriable ones were retried once


def test_every_sample_is_covered() -> None:
    covered = (
        {p.split("/")[1] for p in BY_FUNCTION.values()}
        | set(ERRORS)
        | {
            "time_series_intraday_1min__romeltorres.json",
            "time_series_daily_adjusted__rinebob_visvol_TSLA.json",
        }
    )
    assert {p.name for p in samples_in(AV)} == covered


async def test_the_other_series_samples_parse_whole() -> None:
    for name, call in (
        ("time_series_intraday_1min__romeltorres.json", lambda c: c.intraday("MSFT", "1min")),
        ("time_series_daily_adjusted__rinebob_visvol_TSLA.json", lambda c: c.daily("TSLA", True)),
    ):
        body = sample(f"{AV}/{name}")
        async with fake_vendor(lambda _r, b=body: Answer(b)) as vendor:
            client = _client(vendor.url)
            bars, rejected = await call(client)
            await client.close()
        series = next(v for k, v in orjson.loads(body).items() if "Time Series" in k)
        assert (len(bars), rejected) == (len(series), [])


async def test_a_bad_row_is_rejected_and_the_rest_kept() -> None:
    body = orjson.loads(sample(BY_FUNCTION["TIME_SERIES_INTRADAY"]))
    series = body["Time Series (5min)"]
    broken = sorted(series)[3]
    series[broken]["4. close"] = "n/a"
    async with fake_vendor(lambda _r: Answer(orjson.dumps(body))) as vendor:
        client = _client(vendor.url)
        bars, rejected = await client.intraday("TSLA", "5min")
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
        Answer(sample(BY_FUNCTION["GLOBAL_QUOTE"])),
    )
    before = metrics.VENDOR_REQUESTS.labels(AV, "retried")._value.get()
    async with fake_vendor(answers) as vendor:
        client = _client(vendor.url, retries=3)
        client.http._sleep = record
        client.http.policy.max_wait_s = 60.0
        quote = await client.global_quote("MSFT")
        await client.close()
    assert quote.symbol == "MSFT"
    assert len(vendor.requests) == 3
    assert slept[0] == 7.0  # Retry-After, not the backoff
    assert metrics.VENDOR_REQUESTS.labels(AV, "retried")._value.get() == before + 2


async def test_the_breaker_opens_after_repeated_failures() -> None:
    async with fake_vendor(lambda _r: Answer(b"down", 500)) as vendor:
        client = _client(vendor.url, retries=0, breaker=3)
        for _ in range(3):
            with pytest.raises(VendorError, match="server_error"):
                await client.global_quote("MSFT")
        with pytest.raises(VendorError) as caught:
            await client.global_quote("MSFT")
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
            await client.global_quote("MSFT")
        with pytest.raises(VendorError) as caught:
            await client.global_quote("MSFT")
        await client.close()
    assert slept == [pytest.approx(30.0)]  # the third call waited for the minute's next token
    assert caught.value.reason == "quota_exhausted"  # the day's 3 are spent: too long to wait
    assert len(vendor.requests) == 3
