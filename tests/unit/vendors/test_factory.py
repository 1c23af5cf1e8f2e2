"""Provider names to configured clients."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from marketpulse.settings import Settings
from marketpulse.vendors.alphavantage import AlphaVantage
from marketpulse.vendors.factory import ProviderError, make_client
from marketpulse.vendors.polygon import Polygon


async def test_each_provider_gets_its_client_with_its_quotas() -> None:
    settings = Settings().model_copy(
        update={
            "alphavantage_api_key": SecretStr("av"),
            "alphavantage_per_day": 500,
            "polygon_api_key": SecretStr("pg"),
            "polygon_url": "http://127.0.0.1:1",
        }
    )
    av = make_client("alphavantage", settings)
    pg = make_client("polygon", settings)
    assert isinstance(av, AlphaVantage)
    assert isinstance(pg, Polygon)
    assert av.http.policy.quotas["day"].capacity == 500
    assert pg.http.base_url == "http://127.0.0.1:1"
    await av.close()
    await pg.close()


def test_missing_keys_and_unknown_providers_are_explained() -> None:
    with pytest.raises(ProviderError, match="MARKETPULSE_POLYGON_API_KEY"):
        make_client("polygon", Settings())
    with pytest.raises(ProviderError, match="known: alphavantage, polygon, newsapi"):
        make_client("bloomberg", Settings())
