"""Which end of its bar an Alpha Vantage intraday key names, and what each notice means."""

from __future__ import annotations

import pytest

from marketpulse.vendors.alphavantage import keys_are_starts, notice_of

CURRENT = {
    "Meta Data": {"1. Information": "Intraday (60min) open, high, low, close prices and volume"}
}
OLDEST = {"Meta Data": {"1. Information": "Intraday (1min) prices and volumes"}}


def _day(*times: str) -> list[str]:
    return [f"2024-11-22 {t}" for t in times]


@pytest.mark.parametrize(
    ("body", "stamps", "starts"),
    [
        (CURRENT, _day("04:00:00", "05:00:00", "19:00:00"), True),  # 60 min, the first at 04:00
        (CURRENT, _day("15:00:00", "19:00:00"), True),  # no boundary bar: the current keys
        (CURRENT, _day("16:00:00", "19:55:00"), True),  # 16:00 with post-market: a start
        (CURRENT, _day("05:00:00", "20:00:00"), False),  # the last at 20:00: ends
        (CURRENT, _day("09:31:00", "16:00:00"), False),  # regular hours up to 16:00: ends
        (CURRENT, _day("09:30:00", "15:59:00"), True),  # regular hours from 09:30: starts
        (OLDEST, _day("13:17:00", "14:56:00"), False),  # the oldest responses: ends
        (OLDEST, _day("04:00:00", "14:56:00"), True),  # the keys outrank the description
    ],
)
def test_the_keys_decide_where_they_can_and_the_era_where_they_cannot(
    body: dict[str, dict[str, str]], stamps: list[str], starts: bool
) -> None:
    assert keys_are_starts(body, stamps) is starts


@pytest.mark.parametrize(
    ("text", "reason", "retriable", "wait"),
    [
        ("Thank you for using Alpha Vantage! Please consider spreading out your free API "
         "requests more sparingly (1 request per second). You may subscribe to any of the premium "
         "plans at https://www.alphavantage.co/premium/ to lift the free key rate limit (25 "
         "requests per day), raise the per-second burst limit, and instantly unlock all premium "
         "endpoints", "rate_limited", True, 1.5),
        ("Burst pattern detected.", "rate_limited", True, 1.5),
        ("Our standard API call frequency is 5 calls per minute and 500 calls per day.",
         "rate_limited", True, 60.0),
        ("Our standard API rate limit is 25 requests per day.", "daily_limit", False, None),
        ("Thank you for using Alpha Vantage! This is a premium endpoint.", "premium_endpoint",
         False, None),
        ("The **demo** API key is for demo purposes only.", "missing_key", False, None),
        ("the parameter apikey is invalid or missing.", "unauthorized", False, None),
        ("Something new the vendor says.", "vendor_notice", False, None),
    ],
)  # fmt: skip
def test_each_notice_means_what_it_says(
    text: str, reason: str, retriable: bool, wait: float | None
) -> None:
    notice = notice_of(text)
    assert (notice.reason, notice.retriable, notice.retry_after) == (reason, retriable, wait)
