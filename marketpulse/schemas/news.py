"""Headlines on ``market.news``: one record per article and symbol it concerns."""

from __future__ import annotations

from pydantic import Field

from marketpulse.schemas.events import Symbol, TimestampNs, WireModel


class NewsItem(WireModel):
    """A headline for one symbol (an article about three symbols is three records)."""

    symbol: Symbol
    id: str = Field(min_length=1, description="the vendor's article id, or a hash of its URL")
    published_ts: TimestampNs
    title: str
    description: str | None = None
    url: str
    publisher: str = Field(description="the outlet, e.g. MarketWatch")
    author: str | None = None
    provider: str = Field(description="the vendor it came through: newsapi, polygon")

    def key(self) -> str:
        """The deterministic record key: symbol and article."""
        return f"{self.symbol}|{self.id}"
