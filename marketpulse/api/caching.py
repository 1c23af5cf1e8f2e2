"""The response cache for history queries: the encoded ``data`` is kept in Redis, keyed by the
endpoint, its parameters and the generations of the symbols it covers (see storage/cache.py), so
new data for a symbol makes its cached answers unreachable at once. A Redis failure is a miss."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import Request, Response

from marketpulse import metrics
from marketpulse.api.deps import Stores
from marketpulse.api.envelope import encode_data, respond_encoded
from marketpulse.errors import StoreError


async def cached(
    request: Request,
    stores: Stores,
    params: Mapping[str, Any],
    symbols: Sequence[str],
    produce: Callable[[], Awaitable[Any]],
) -> Response:
    """The cached answer for this route and ``params``, or ``produce()``'s, then cached."""
    route = request.scope["route"].path
    try:
        key, hit = await stores.responses.get(route, params, symbols)
    except StoreError:
        key, hit = None, None
    if hit is not None:
        metrics.API_CACHE.labels("hit").inc()
        return respond_encoded(request, hit, cache_used=True)
    metrics.API_CACHE.labels("miss").inc()
    data = encode_data(await produce())
    if key is not None:
        with contextlib.suppress(StoreError):
            await stores.responses.put(key, data, stores.settings.api_cache_ttl_s)
    return respond_encoded(request, data)
