"""A provider's name to its configured client."""

from __future__ import annotations

from marketpulse.errors import MarketPulseError
from marketpulse.settings import Settings
from marketpulse.vendors.alphavantage import AlphaVantage
from marketpulse.vendors.http import VendorClient
from marketpulse.vendors.polygon import Polygon

PROVIDERS = ("alphavantage", "polygon")


class ProviderError(MarketPulseError):
    """An unknown provider, or one without an API key."""


def make_client(provider: str, settings: Settings) -> VendorClient:
    """The client for ``provider`` with the settings' key, URL and quotas."""
    if provider == "alphavantage":
        key = settings.alphavantage_api_key
        if key is None:
            raise ProviderError("set MARKETPULSE_ALPHAVANTAGE_API_KEY to use Alpha Vantage")
        return AlphaVantage(
            key.get_secret_value(),
            settings.alphavantage_url,
            settings.alphavantage_per_minute,
            settings.alphavantage_per_day,
        )
    if provider == "polygon":
        if settings.polygon_api_key is None:
            raise ProviderError("set MARKETPULSE_POLYGON_API_KEY to use Polygon")
        return Polygon(
            settings.polygon_api_key.get_secret_value(),
            settings.polygon_url,
            settings.polygon_per_minute,
        )
    raise ProviderError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
