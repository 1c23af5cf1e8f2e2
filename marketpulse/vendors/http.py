"""What every vendor client shares: async HTTP with timeouts, our own quotas (token buckets),
retries on 429 and 5xx that honour Retry-After, a circuit breaker, and metrics per provider.

A vendor's answer is classified here only by its HTTP status; vendors that report errors in a
200 body (Alpha Vantage) check the body in their own module and raise :class:`VendorError`.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from marketpulse import metrics
from marketpulse.errors import MarketPulseError
from marketpulse.policy import Backoff, CircuitBreaker, TokenBucket


class VendorError(MarketPulseError):
    """A vendor request that failed; ``reason`` is a dead-letter style code (``rate_limited``,
    ``unauthorized``, ``not_found``, ``bad_request``, ``server_error``, ``malformed``,
    ``circuit_open``, ...)."""

    def __init__(
        self,
        provider: str,
        reason: str,
        detail: str,
        retriable: bool,
        retry_after: float | None = None,
        payload: str | None = None,
    ) -> None:
        super().__init__(f"{provider}: {reason}: {detail}")
        self.provider = provider
        self.reason = reason
        self.detail = detail
        self.retriable = retriable
        self.retry_after = retry_after
        self.payload = payload  # the body a payload fault was found in, for the dead letter


_PAYLOAD_CHARS = 100_000
_STATUS_REASONS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}


@dataclass
class Policy:
    """How one provider is called."""

    quotas: Mapping[str, TokenBucket]  # window name ("minute", "day") -> bucket
    timeout_s: float = 10.0
    retries: int = 3
    backoff: Backoff = field(default_factory=lambda: Backoff(0.5, 30.0))
    breaker: CircuitBreaker = field(default_factory=lambda: CircuitBreaker(5, 30.0))
    max_wait_s: float = 120.0  # longer quota waits are refused, not slept through


class VendorHttp:
    """JSON over HTTP for one provider."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        policy: Policy,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=policy.timeout_s))

    async def close(self) -> None:
        """Release the connection pool."""
        await self._session.close()

    def _error(self, reason: str, detail: str, retriable: bool) -> VendorError:
        return VendorError(self.provider, reason, detail, retriable)

    async def _spend_quota(self) -> None:
        while True:
            now = self._clock()
            waits = {name: bucket.take(now) for name, bucket in self.policy.quotas.items()}
            for name, bucket in self.policy.quotas.items():
                metrics.VENDOR_QUOTA_LEFT.labels(self.provider, name).set(bucket.left(now))
            wait = max(waits.values(), default=0.0)
            if wait == 0:
                return
            # a window without a token gives back the ones the others just spent
            for name, bucket in self.policy.quotas.items():
                if waits[name] == 0:
                    bucket.tokens += 1
            if wait > self.policy.max_wait_s:
                window = max(waits, key=lambda n: waits[n])
                raise self._error(
                    "quota_exhausted", f"our {window} quota is used up for {wait:.0f} s", True
                )
            await self._sleep(wait)

    async def get_json(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        check: Callable[[Any], None] | None = None,
    ) -> Any:
        """GET ``path`` and decode its JSON, within quota, retries and the breaker. ``check``
        inspects a 200 body and raises :class:`VendorError` for errors sent as data (retried
        like a 429 when retriable)."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        policy = self.policy
        attempt = 0
        while True:
            if not policy.breaker.allows(self._clock()):
                metrics.VENDOR_REQUESTS.labels(self.provider, "refused").inc()
                raise self._error(
                    "circuit_open", "too many failures; waiting before retrying", True
                )
            await self._spend_quota()
            try:
                body = await self._once(url, params)
                if check is not None:
                    try:
                        check(body)
                    except VendorError as exc:
                        if exc.reason == "unexpected_payload":
                            exc.payload = _text(orjson.dumps(body), _PAYLOAD_CHARS)
                        raise
                metrics.VENDOR_REQUESTS.labels(self.provider, "ok").inc()
                return body
            except VendorError as exc:
                attempt += 1
                if not exc.retriable or attempt > policy.retries:
                    outcome = "failed" if exc.retriable else "refused"
                    metrics.VENDOR_REQUESTS.labels(self.provider, outcome).inc()
                    raise
                metrics.VENDOR_REQUESTS.labels(self.provider, "retried").inc()
                delay = exc.retry_after or policy.backoff.next_delay()
                await self._sleep(min(delay, policy.max_wait_s))

    async def _once(self, url: str, params: Mapping[str, str] | None) -> Any:
        started = time.perf_counter()
        breaker = self.policy.breaker
        try:
            async with self._session.get(url, params=params) as response:
                body = await response.read()
                status = response.status
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            breaker.failure(self._clock())
            raise self._error("unreachable", f"{type(exc).__name__}: {exc}", True) from exc
        finally:
            metrics.VENDOR_LATENCY.labels(self.provider).observe(time.perf_counter() - started)
        if status == 429 or status >= 500:
            if status >= 500:
                breaker.failure(self._clock())
            reason = "rate_limited" if status == 429 else "server_error"
            detail = f"HTTP {status}: {_text(body)}"
            raise VendorError(self.provider, reason, detail, True, retry_after)
        breaker.success()
        self.policy.backoff.reset()
        if status >= 400:
            reason = _STATUS_REASONS.get(status, "bad_request")
            raise self._error(reason, f"HTTP {status}: {_text(body)}", False)
        try:
            decoded = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise VendorError(
                self.provider, "malformed", f"not JSON: {_text(body)}", False,
                payload=_text(body, _PAYLOAD_CHARS),
            ) from exc  # fmt: skip
        return decoded


def _text(body: bytes, limit: int = 300) -> str:
    return body.decode(errors="replace")[:limit]


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class VendorClient:
    """Base of the vendor clients: an API key and the shared HTTP mechanism."""

    provider: str

    def __init__(
        self,
        api_key: str,
        base_url: str,
        quotas: Mapping[str, TokenBucket],
        policy: Policy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = VendorHttp(
            self.provider, base_url, policy or Policy(quotas=quotas), sleep=sleep
        )
        self._key = api_key

    async def close(self) -> None:
        """Release the connection pool."""
        await self.http.close()
