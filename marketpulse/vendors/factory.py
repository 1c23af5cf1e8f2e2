"""A provider's name to its configured client."""

from __future__ import annotations

from marketpulse.errors import MarketPulseError
from marketpulse.settings import Settings
from marketpulse.vendors.alphavantage import AlphaVantage
from marketpulse.vendors.http import VendorClient
from marketpulse.vendors.news_feeds import NewsApi
from marketpulse.vendors.polygon import Polygon

PROVIDERS = ("alphavantage", "polygon", "newsapi")


class ProviderError(MarketPulseError):
    """An unknown provider, or one without an API key."""


def make_client(provider: str, settings: Settings) -> VendorClient:
    """The client for ``provider`` with the settings' key, URL and quotas."""
    if provider not in PROVIDERS:
        raise ProviderError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    key = getattr(settings, f"{provider}_api_key")
    if key is None:
        raise ProviderError(f"set MARKETPULSE_{provider.upper()}_API_KEY to use {provider}")
    secret = key.get_secret_value()
    s = settings
    if provider == "alphavantage":
        return AlphaVantage(
            secret, s.alphavantage_url, s.alphavantage_per_minute, s.alphavantage_per_day
        )
    if provider == "polygon":
        return Polygon(secret, s.polygon_url, s.polygon_per_minute)
    return NewsApi(secret, s.newsapi_url, s.newsapi_per_day)
