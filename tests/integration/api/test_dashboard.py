"""The dashboard's page and assets as the API serves them, and the catalog the page starts from.
The page itself runs in a real browser in tests/e2e/test_dashboard.py."""

from __future__ import annotations

import re

import pytest

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.analytics.indicators import build
from tests.api_helpers import ApiStack, assert_error, sign_in

pytestmark = [pytest.mark.integration]


async def test_the_page_is_served_with_a_csp_that_allows_only_its_own_origin(api: ApiStack) -> None:
    page = await api.client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert "unsafe" not in csp
    assert "http" not in csp

    # every script and stylesheet the page names is served from the package
    for path in re.findall(r'(?:src|href)="(/dashboard/[^"]+)"', page.text):
        asset = await api.client.get(path)
        assert asset.status_code == 200, path
        assert asset.headers["content-security-policy"] == csp
    assert not re.search(
        r'(?:src|href)="https?://', page.text.replace('href="https://www.tradingview.com/"', "")
    )  # the one outside link: the chart's credit

    slash = await api.client.get("/dashboard/")
    assert (slash.status_code, slash.headers["location"]) == (308, "/dashboard")
    assert (await api.client.get("/dashboard/assets/../../main.py")).status_code == 404
    assert "/dashboard" not in (await api.client.get("/openapi.json")).json()["paths"]


async def test_the_catalog_lists_granularities_and_how_to_ask_for_each_streamed_indicator(
    api: ApiStack,
) -> None:
    assert_error(await api.client.get("/api/v1/market-data/catalog"), 401)
    account = await sign_in(api.client, api.pool, "user")
    response = await api.client.get("/api/v1/market-data/catalog", headers=account.headers)
    catalog = response.json()["data"]
    settings = api.settings
    assert catalog["granularities"] == [
        {"name": g, "seconds": parse_granularity(g) // 10**9} for g in settings.granularities
    ]
    assert [i["spec"] for i in catalog["indicators"]] == settings.indicators
    bands = next(i for i in catalog["indicators"] if i["spec"] == "bb_20_2")
    assert bands == {
        "spec": "bb_20_2", "name": "bb", "params": "20,2",
        "outputs": ["bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2"],
    }  # fmt: skip

    # each entry's name and params, sent to /indicators, give back that spec's stored values
    for entry in catalog["indicators"]:
        params = {"granularity": settings.granularities[0], "limit": 1}
        if entry["params"]:
            params["params"] = entry["params"]
        answer = await api.client.get(
            f"/api/v1/indicators/AAPL/{entry['name']}", params=params, headers=account.headers
        )
        assert answer.status_code == 200, (entry, answer.text)
        body = answer.json()["data"]
        assert (body["indicator"], body["source"]) == (entry["spec"], "stored")
        assert body["outputs"] == list(build(entry["spec"]).outputs) == entry["outputs"]
