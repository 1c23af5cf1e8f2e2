"""The edge of every request: error envelopes for every status, request ids, security headers,
versioning, CORS, body limits, hostile strings, and rate limits under concurrent load."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from marketpulse.api.main import create_app
from marketpulse.settings import Settings
from marketpulse.storage.cache import connect
from tests.api_helpers import (
    PASSWORD,
    ApiStack,
    api_settings,
    assert_error,
    client_address,
    serve,
    sign_in,
)

pytestmark = [pytest.mark.integration]
V1 = "/api/v1"
INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    '" OR symbol =~ /.*/ --',
    "$symbol",
    "AAPL\x00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "%27%20OR%201%3D1",
    "AAPL; SHOW DATABASES",
    "ÅÄÖ" * 20,
    "a" * 300,
]


@pytest.fixture(scope="module")
async def proxied(api: ApiStack) -> AsyncIterator[tuple[Settings, httpx.AsyncClient]]:
    """An API behind a (trusted) proxy, with tight limits. Each request comes from a random
    client IP (X-Forwarded-For) unless it names one, so counts never mix."""
    settings = api_settings(
        api.settings,
        api_trust_proxy=True,
        api_rate_ip=10,
        api_rate_user=6,
        api_rate_endpoints={"auth": 3, "indicators": 100, "batch": 100},
        api_cors_origins=["https://app.example.com"],
        api_max_body_bytes=2048,
    )
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    async def fresh_ip(request: httpx.Request) -> None:
        request.headers.setdefault("X-Forwarded-For", client_address())

    hooks = {"request": [fresh_ip]}
    async with (
        serve(settings, app) as url,
        httpx.AsyncClient(base_url=url, timeout=30, event_hooks=hooks) as client,
    ):
        yield settings, client


async def test_every_error_status_has_the_envelope(api: ApiStack, proxied: Any) -> None:
    _settings, client = proxied
    assert_error(await client.get(f"{V1}/no/such/route"), 404, "NOT_FOUND")
    assert_error(await client.delete(f"{V1}/auth/me"), 405, "METHOD_NOT_ALLOWED")
    invalid = await client.post(
        f"{V1}/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error(invalid, 422, "VALIDATION_ERROR")
    crashed = assert_error(await client.get("/boom"), 500, "INTERNAL_ERROR")
    assert "a bug" not in str(crashed)  # internals stay in the log
    assert crashed["details"]["request_id"]


async def test_request_ids_and_security_headers(api: ApiStack, proxied: Any) -> None:
    _settings, client = proxied
    given = await client.get(f"{V1}/auth/me", headers={"X-Request-ID": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"
    assert given.json()["metadata"]["request_id"] == "trace-123"
    hostile = await client.get(f"{V1}/auth/me", headers={"X-Request-ID": "x" * 100 + "; rm -rf"})
    assert hostile.headers["x-request-id"] != "x" * 100
    headers = given.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert headers["api-version"] == "1"
    assert "strict-transport-security" not in headers  # plain HTTP
    over_tls = await client.get(f"{V1}/auth/me", headers={"X-Forwarded-Proto": "https"})
    assert over_tls.headers["strict-transport-security"].startswith("max-age=")
    docs = await api.client.get("/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


async def test_api_version_header(api: ApiStack) -> None:
    ok = await api.client.get(f"{V1}/monitoring/metrics", headers={"API-Version": "1"})
    assert ok.status_code == 200
    wrong = await api.client.get(f"{V1}/monitoring/metrics", headers={"API-Version": "2"})
    assert_error(wrong, 400, "UNSUPPORTED_API_VERSION")


async def test_cors_allows_only_the_configured_origins(proxied: Any) -> None:
    _settings, client = proxied
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    }
    allowed = await client.options(
        f"{V1}/auth/me", headers={"Origin": "https://app.example.com", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    refused = await client.options(
        f"{V1}/auth/me", headers={"Origin": "https://evil.example.com", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


async def test_oversized_bodies_get_413(proxied: Any) -> None:
    settings, client = proxied
    big = {"username": "x" * settings.api_max_body_bytes, "password": "y"}
    declared = await client.post(
        f"{V1}/auth/login", json=big, headers={"X-Forwarded-For": client_address()}
    )
    assert_error(declared, 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1024

    # every operation that takes a body, whoever parses it (FastAPI or the route), and before
    # the caller's token is looked at
    spec = (await client.get("/openapi.json")).json()
    with_body = [
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert len(with_body) >= 8
    for method, path in with_body:
        streamed = await client.request(
            method.upper(),
            path.replace("{", "").replace("}", ""),
            content=chunks(),
            headers={"content-type": "application/json", "X-Forwarded-For": client_address()},
        )
        assert_error(streamed, 413, "PAYLOAD_TOO_LARGE")
        assert "2048 bytes" in streamed.json()["error"]["message"], (method, path)


async def test_hostile_strings_in_every_string_parameter(api: ApiStack) -> None:
    admin = await sign_in(api.client, api.pool, "admin")
    h = admin.headers
    statuses: Counter[int] = Counter()
    for text in INJECTIONS:
        quoted = quote(text, safe="")
        calls = [
            api.client.get(f"{V1}/market-data/{quoted}/quote", headers=h),
            api.client.get(f"{V1}/market-data/{quoted}/daily", headers=h),
            api.client.get(
                f"{V1}/market-data/AAPL/intraday", params={"granularity": text}, headers=h
            ),
            api.client.get(f"{V1}/market-data/search", params={"q": text}, headers=h),
            api.client.post(f"{V1}/market-data/batch", json={"symbols": [text]}, headers=h),
            api.client.get(f"{V1}/indicators/{quoted}/rsi", headers=h),
            api.client.get(f"{V1}/indicators/AAPL/{quoted}", headers=h),
            api.client.get(f"{V1}/indicators/AAPL/sma", params={"params": text}, headers=h),
            api.client.get(f"{V1}/signals/{quoted}", params={"name": text}, headers=h),
            api.client.get(
                f"{V1}/signals/AAPL", params={"granularity": text, "kind": text}, headers=h
            ),
            api.client.get(f"{V1}/security/audit", params={"action": text}, headers=h),
            api.client.put(f"{V1}/storage/retention/{quoted}", json={"duration": text}, headers=h),
            api.client.post(f"{V1}/auth/login", json={"username": text, "password": text}),
            api.client.post(
                f"{V1}/auth/register", json={"username": text, "email": text, "password": text}
            ),
        ]
        for response in await asyncio.gather(*calls):
            statuses[response.status_code] += 1
            assert response.status_code < 500, (text, response.request.url, response.text)
            assert set(response.json()) in ({"data", "metadata"}, {"error", "metadata"})
    assert set(statuses) <= {200, 400, 401, 404, 405, 409, 422}
    # nothing was dropped or widened: the users table still answers, search still narrows
    assert (await api.client.get(f"{V1}/auth/me", headers=h)).status_code == 200
    found = await api.client.get(f"{V1}/market-data/search", params={"q": "' OR '1'='1"}, headers=h)
    everything = await api.client.get(
        f"{V1}/market-data/search", params={"q": "a", "limit": 100}, headers=h
    )
    assert len(found.json()["data"]) < len(everything.json()["data"])


async def test_ip_limit_holds_exactly_under_concurrent_load(proxied: Any) -> None:
    settings, client = proxied
    ip = client_address()
    responses = await asyncio.gather(
        *(
            client.get(f"{V1}/monitoring/metrics", headers={"X-Forwarded-For": ip})
            for _ in range(25)
        )
    )
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: settings.api_rate_ip, 429: 25 - settings.api_rate_ip}
    refused = next(r for r in responses if r.status_code == 429)
    error = assert_error(refused, 429, "RATE_LIMITED")
    assert error["details"] == {"scope": "ip", "limit": settings.api_rate_ip}
    assert 1 <= int(refused.headers["retry-after"]) <= settings.api_rate_window_s
    assert refused.headers["x-ratelimit-remaining"] == "0"
    remaining = sorted(
        int(r.headers["x-ratelimit-remaining"]) for r in responses if r.status_code == 200
    )
    assert remaining == list(range(settings.api_rate_ip))
    for allowed in (r for r in responses if r.status_code == 200):
        assert 1 <= int(allowed.headers["x-ratelimit-reset"]) <= settings.api_rate_window_s
    other = await client.get(
        f"{V1}/monitoring/metrics", headers={"X-Forwarded-For": client_address()}
    )
    assert other.status_code == 200  # another client is not held back


async def test_the_limiter_loads_its_script_again_when_redis_forgot_it(proxied: Any) -> None:
    """A Redis restart forgets loaded scripts; limits must still be enforced, not skipped."""
    settings, client = proxied
    redis = connect(settings.redis_url)
    try:
        await redis.script_flush()
    finally:
        await redis.aclose()
    ip = client_address()
    codes = [
        (await client.get(f"{V1}/monitoring/metrics", headers={"X-Forwarded-For": ip})).status_code
        for _ in range(settings.api_rate_ip + 1)
    ]
    assert codes == [200] * settings.api_rate_ip + [429]


async def test_user_and_endpoint_limits(api: ApiStack, proxied: Any) -> None:
    settings, client = proxied
    account = await sign_in(api.client, api.pool, "user")
    per_user = await asyncio.gather(
        *(
            client.get(
                f"{V1}/auth/me", headers={**account.headers, "X-Forwarded-For": client_address()}
            )
            for _ in range(9)
        )
    )
    codes = Counter(r.status_code for r in per_user)
    assert codes == {200: settings.api_rate_user, 429: 9 - settings.api_rate_user}
    assert {r.json()["error"]["details"]["scope"] for r in per_user if r.status_code == 429} == {
        "user"
    }

    ip = client_address()
    logins = [
        await client.post(
            f"{V1}/auth/login",
            json={"username": "nobody", "password": PASSWORD},
            headers={"X-Forwarded-For": ip},
        )
        for _ in range(5)
    ]
    assert [r.status_code for r in logins] == [401, 401, 401, 429, 429]
    assert logins[-1].json()["error"]["details"]["scope"] == "endpoint"
    # the same client may still use the rest of the API
    assert (
        await client.get(f"{V1}/monitoring/metrics", headers={"X-Forwarded-For": ip})
    ).status_code == 200
