"""News: NewsAPI.org articles and Polygon's ticker news, as ``market.news`` records.

NewsAPI's ``source.id``, ``author``, ``urlToImage`` and ``content`` are often null; an article
has no id of its own, so ours is a hash of its URL. An article its publisher took down stays in
results as a placeholder (title ``[Removed]``, URL ``https://removed.com``, dated 1970): those
are dropped and counted (``marketpulse_vendor_dropped_total``), not published. Polygon's
articles carry an id and the list of tickers they concern: one record per ticker. Both stamp
``published`` as RFC 3339 UTC.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from marketpulse import metrics
from marketpulse.policy import TokenBucket
from marketpulse.schemas.news import NewsItem
from marketpulse.vendors.common import Rejected
from marketpulse.vendors.http import Policy, VendorClient, VendorError

PROVIDER = "newsapi"
REMOVED = "[Removed]"
REMOVED_URL = "https://removed.com"
_CODES = {
    "apiKeyInvalid": "unauthorized",
    "apiKeyMissing": "unauthorized",
    "apiKeyDisabled": "unauthorized",
    "rateLimited": "rate_limited",
}


def published_ns(text: str) -> int:
    """An RFC 3339 time (``2020-08-09T07:00:00Z``) as ns since the epoch."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"no time zone in {text!r}")
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def check_body(body: Any) -> None:
    """Raise for NewsAPI's error envelope (``status: error`` with a ``code``)."""
    if not isinstance(body, dict):
        raise VendorError(
            PROVIDER, "unexpected_payload", f"not an object: {str(body)[:200]}", False
        )
    if body.get("status") == "error":
        reason = _CODES.get(str(body.get("code")), "bad_request")
        raise VendorError(PROVIDER, reason, str(body.get("message")), reason == "rate_limited")


def _removed(article: Any) -> bool:
    """Whether a NewsAPI article is the placeholder of one taken down."""
    return isinstance(article, dict) and (
        article.get("title") == REMOVED or article.get("url") == REMOVED_URL
    )


def parse_newsapi(body: dict[str, Any], symbol: str) -> tuple[list[NewsItem], list[Rejected]]:
    """``/v2/everything`` or ``/v2/top-headlines`` articles as records for ``symbol``."""
    items, rejected = [], []
    for article in body.get("articles") or []:
        if _removed(article):
            metrics.VENDOR_DROPPED.labels(PROVIDER, "removed").inc()
            continue
        try:
            url = str(article["url"])
            items.append(
                NewsItem(
                    symbol=symbol,
                    id=hashlib.sha256(url.encode()).hexdigest()[:32],
                    published_ts=published_ns(article["publishedAt"]),
                    title=str(article["title"]),
                    description=article.get("description"),
                    url=url,
                    publisher=str((article.get("source") or {}).get("name") or ""),
                    author=article.get("author"),
                    provider=PROVIDER,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            rejected.append(Rejected("malformed", f"article: {exc}", str(article)[:500]))
    return items, rejected


def parse_polygon_news(body: dict[str, Any]) -> tuple[list[NewsItem], list[Rejected]]:
    """``/v2/reference/news`` articles, one record per ticker each concerns."""
    items, rejected = [], []
    for article in body.get("results") or []:
        try:
            for ticker in article["tickers"]:
                items.append(
                    NewsItem(
                        symbol=ticker,
                        id=str(article["id"]),
                        published_ts=published_ns(article["published_utc"]),
                        title=str(article["title"]),
                        description=article.get("description"),
                        url=str(article["article_url"]),
                        publisher=str((article.get("publisher") or {}).get("name") or ""),
                        author=article.get("author"),
                        provider="polygon",
                    )
                )
        except (KeyError, TypeError, ValueError) as exc:
            rejected.append(Rejected("malformed", f"article: {exc}", str(article)[:500]))
    return items, rejected


class NewsApi(VendorClient):
    """NewsAPI.org; the default quota is the developer plan's 100 requests a day."""

    provider = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://newsapi.org",
        per_day: int = 100,
        policy: Policy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(api_key, base_url, {"day": TokenBucket(per_day, 86_400.0)}, policy, sleep)

    async def headlines(
        self,
        symbol: str,
        query: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> tuple[list[NewsItem], list[Rejected]]:
        """The newest articles matching ``query`` (default: the symbol), published from
        ``start`` to ``end`` (dates, inclusive) when given, as records."""
        params = {"q": query or symbol, "sortBy": "publishedAt", "apiKey": self._key}
        if start:
            params["from"] = start.isoformat()
        if end:
            params["to"] = end.isoformat()
        body = await self.http.get_json("/v2/everything", params, check=check_body)
        return parse_newsapi(body, symbol)
