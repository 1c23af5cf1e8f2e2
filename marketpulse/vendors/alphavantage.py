"""Alpha Vantage: GLOBAL_QUOTE, TIME_SERIES_INTRADAY, TIME_SERIES_DAILY (and _ADJUSTED),
SYMBOL_SEARCH. Quirks handled (docs/vendors.md):

* errors and limits come as HTTP 200 with ``Note``, ``Information`` or ``Error Message``, told
  apart by their words (:data:`NOTICES`): a burst throttle is waited out, a demo or invalid key
  fails at once saying to set the key;
* every number is a string, some with ``%``;
* numbered keys whose numbers change meaning (``5.`` is volume in one function, adjusted close
  in another), so fields are matched on the text after the number;
* series keyed by naive US/Eastern times, newest first. Intraday keys are bar starts in current
  responses and were bar ends in older ones (:func:`keys_are_starts`); daily keys are exchange
  dates and become our UTC-aligned ``1d`` bars of that date.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.policy import TokenBucket
from marketpulse.schemas.bars import Bar
from marketpulse.vendors.common import EASTERN, Rejected, day_start_ns
from marketpulse.vendors.http import Policy, VendorClient, VendorError

PROVIDER = "alphavantage"
INTERVALS = {"1min": "1m", "5min": "5m", "15min": "15m", "30min": "30m", "60min": "1h"}
_NUMBERED = re.compile(r"^\s*\d+\.\s*")


@dataclass(frozen=True)
class GlobalQuote:
    """The latest trading day's summary for a symbol."""

    symbol: str
    open: float
    high: float
    low: float
    price: float
    volume: float
    latest_trading_day: dt.date
    previous_close: float
    change: float
    change_percent: float


@dataclass(frozen=True)
class SymbolMatch:
    """One SYMBOL_SEARCH result."""

    symbol: str
    name: str
    type: str
    region: str
    currency: str
    match_score: float


def fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """Numbered keys without their numbers: ``{"5. volume": x}`` -> ``{"volume": x}``."""
    return {_NUMBERED.sub("", key).strip().lower(): value for key, value in row.items()}


def number(text: Any) -> float:
    """A vendor number: a string such as ``"112.6300"`` or ``"-0.5852%"``."""
    if isinstance(text, int | float):
        return float(text)
    if not isinstance(text, str):
        raise ValueError(f"not a number: {text!r}")
    return float(text.strip().rstrip("%"))


@dataclass(frozen=True)
class Notice:
    """What a notice means: the error's reason, whether to try again, and after how long."""

    reason: str
    retriable: bool
    retry_after: float | None = None
    advice: str = ""


_SET_KEY = (
    "set MARKETPULSE_ALPHAVANTAGE_API_KEY to your own key (free at "
    "https://www.alphavantage.co/support/#api-key)"
)
# A notice's meaning, by its words; the first match wins. Order matters: the current burst
# notice also names the daily limit and premium endpoints, and the old per-minute one the daily
# allowance.
NOTICES: tuple[tuple[tuple[str, ...], Notice], ...] = (
    (("demo",), Notice("missing_key", False, advice=_SET_KEY)),
    (("apikey is invalid", "apikey is missing", "invalid api key"),
     Notice("unauthorized", False, advice=_SET_KEY)),
    # one request a second: a short wait clears it
    (("spreading out", "per second", "burst"), Notice("rate_limited", True, 1.5)),
    (("per minute",), Notice("rate_limited", True, 60.0)),
    # the daily cap lasts until tomorrow: not worth waiting for within a request
    (("per day",), Notice("daily_limit", False)),
    (("premium endpoint",), Notice("premium_endpoint", False)),
)  # fmt: skip
UNKNOWN_NOTICE = Notice("vendor_notice", False)


def notice_of(text: str) -> Notice:
    """The meaning of a ``Note`` or ``Information`` text (``vendor_notice`` when unknown)."""
    lowered = text.lower()
    for words, notice in NOTICES:
        if any(word in lowered for word in words):
            return notice
    return UNKNOWN_NOTICE


def check_body(body: Any) -> None:
    """Raise for the errors Alpha Vantage sends with status 200."""
    if not isinstance(body, dict):
        raise VendorError(
            PROVIDER, "unexpected_payload", f"not an object: {str(body)[:200]}", False
        )
    for key in ("Error Message", "Note", "Information"):
        if key not in body:
            continue
        text = str(body[key])
        notice = notice_of(text)
        if key == "Error Message" and notice.reason != "unauthorized":
            raise VendorError(PROVIDER, "invalid_call", text, False)
        detail = f"{notice.advice} (Alpha Vantage said: {text})" if notice.advice else text
        raise VendorError(PROVIDER, notice.reason, detail, notice.retriable, notice.retry_after)


def _expect(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        keys = ", ".join(sorted(body)) or "none"
        raise VendorError(PROVIDER, "unexpected_payload", f"no {key!r} (keys: {keys})", False)
    return body[key]


def parse_global_quote(body: dict[str, Any]) -> GlobalQuote:
    """GLOBAL_QUOTE's body; an unknown symbol answers an empty object."""
    row = fields(_expect(body, "Global Quote"))
    if not row:
        raise VendorError(PROVIDER, "not_found", "empty Global Quote: unknown symbol", False)
    try:
        return GlobalQuote(
            symbol=str(row["symbol"]),
            open=number(row["open"]),
            high=number(row["high"]),
            low=number(row["low"]),
            price=number(row["price"]),
            volume=number(row["volume"]),
            latest_trading_day=dt.date.fromisoformat(row["latest trading day"]),
            previous_close=number(row["previous close"]),
            change=number(row["change"]),
            change_percent=number(row["change percent"]),
        )
    except (KeyError, ValueError) as exc:
        raise VendorError(PROVIDER, "malformed", f"Global Quote: {exc}", False) from exc


def parse_search(body: dict[str, Any]) -> list[SymbolMatch]:
    """SYMBOL_SEARCH's matches, best first."""
    out = []
    for raw in _expect(body, "bestMatches"):
        row = fields(raw)
        out.append(
            SymbolMatch(
                symbol=row["symbol"],
                name=row["name"],
                type=row["type"],
                region=row["region"],
                currency=row["currency"],
                match_score=number(row["matchscore"]),
            )
        )
    return sorted(out, key=lambda m: -m.match_score)


def _series_key(body: dict[str, Any]) -> str:
    for key in body:
        if "Time Series" in key:
            return key
    raise VendorError(
        PROVIDER, "unexpected_payload", f"no time series (keys: {sorted(body)})", False
    )


def _utc_ns(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=EASTERN).timestamp()) * 10**9


def keys_are_starts(body: dict[str, Any], stamps: list[str]) -> bool:
    """Whether an intraday response keys each bar by its start (current responses: the last
    extended-hours 5-minute bar is ``19:55``) or by its end (responses until about 2021: the
    last is ``20:00``). The vendor does not document it, so the keys decide where they can:
    trading runs from 04:00 to 20:00, so a key at 20:00 can only be an end and one at 04:00
    only a start; in a regular-hours-only series, a key at 16:00 can only be an end. Otherwise
    the response's era decides: the oldest ones describe themselves as "prices and volumes",
    without naming open, high, low and close, and were end-keyed; all else is read as current.
    """
    times = {stamp[11:19] for stamp in stamps}
    if "20:00:00" in times:
        return False
    if "04:00:00" in times:
        return True
    regular_only = all("09:30:00" <= t <= "16:00:00" for t in times)
    if regular_only and "16:00:00" in times:
        return False
    described = str(fields(body.get("Meta Data") or {}).get("information", "")).lower()
    return not (described and "open, high, low, close" not in described)


def parse_series(
    body: dict[str, Any], symbol: str, granularity: str, adjusted: bool = False
) -> tuple[list[Bar], list[Rejected]]:
    """A TIME_SERIES_* body as bars, oldest first, and the rows that could not be bars."""
    series: dict[str, Any] = body[_series_key(body)]
    length = parse_granularity(granularity)
    daily = length >= 86_400 * 10**9
    stamps = sorted(series)
    back = 0 if daily or keys_are_starts(body, stamps) else length  # from an end to the start
    bars, rejected = [], []
    for stamp in stamps:
        row = fields(series[stamp])
        try:
            if daily:
                start = day_start_ns(dt.date.fromisoformat(stamp[:10]))
            else:
                start = _utc_ns(dt.datetime.fromisoformat(stamp)) - back
            o, h, low, c = (number(row[k]) for k in ("open", "high", "low", "close"))
            volume = number(row["volume"])
            if adjusted:
                factor = number(row["adjusted close"]) / c if c else 1.0
                o, h, low, c = o * factor, h * factor, low * factor, c * factor
                volume = volume / factor if factor else volume
            bars.append(
                Bar(
                    symbol=symbol,
                    granularity=granularity,
                    start=start,
                    end=start + length,
                    open=o,
                    high=h,
                    low=low,
                    close=c,
                    volume=volume,
                )
            )
        except (KeyError, ValueError, ZeroDivisionError) as exc:
            rejected.append(Rejected("malformed", f"{stamp}: {exc}", str(series[stamp])[:500]))
    return bars, rejected


class AlphaVantage(VendorClient):
    """The client; quotas default to the free tier (5 a minute, 25 a day)."""

    provider = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://www.alphavantage.co",
        per_minute: int = 5,
        per_day: int = 25,
        policy: Policy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        quotas = {"minute": TokenBucket(per_minute, 60.0), "day": TokenBucket(per_day, 86_400.0)}
        super().__init__(api_key, base_url, quotas, policy, sleep)

    async def _query(self, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.http.get_json(
            "/query", {**params, "apikey": self._key}, check=check_body
        )
        return body

    async def global_quote(self, symbol: str) -> GlobalQuote:
        """The latest day's quote summary."""
        return parse_global_quote(await self._query(function="GLOBAL_QUOTE", symbol=symbol))

    async def intraday(
        self, symbol: str, interval: str = "1min", full: bool = False
    ) -> tuple[list[Bar], list[Rejected]]:
        """Intraday bars (``1min`` ... ``60min``)."""
        if interval not in INTERVALS:
            raise ValueError(f"interval must be one of {sorted(INTERVALS)}")
        body = await self._query(
            function="TIME_SERIES_INTRADAY", symbol=symbol, interval=interval,
            outputsize="full" if full else "compact",
        )  # fmt: skip
        return parse_series(body, symbol, INTERVALS[interval])

    async def daily(
        self, symbol: str, adjusted: bool = False, full: bool = False
    ) -> tuple[list[Bar], list[Rejected]]:
        """Daily bars; ``adjusted`` scales them by the split- and dividend-adjusted close."""
        function = "TIME_SERIES_DAILY_ADJUSTED" if adjusted else "TIME_SERIES_DAILY"
        body = await self._query(
            function=function, symbol=symbol, outputsize="full" if full else "compact"
        )
        return parse_series(body, symbol, "1d", adjusted)

    async def search(self, keywords: str) -> list[SymbolMatch]:
        """SYMBOL_SEARCH."""
        return parse_search(await self._query(function="SYMBOL_SEARCH", keywords=keywords))
