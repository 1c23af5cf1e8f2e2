"""The response cache for history queries: the encoded ``data`` is kept in Redis, keyed by the
endpoint, its parameters and the generations of the symbols it covers (see storage/cache.py), so
new data for a symbol makes its cached answers unreachable at once. A Redis failure is a miss.

There are two ways to a cached answer:

* :func:`cached`, in the route, once FastAPI has validated the request. It also links the
  request's URL to the entry.
* :class:`CachedByUrl`, in front of the routes, for a GET whose exact URL has a link. It runs the
  route's own gate (rate limits, token, session, role: the same 429, 401 and 403), and any
  further permission the route asked of the caller, then answers from the entry. FastAPI's
  routing, dependency solving and validation, skipped here, were most of a cached answer's CPU
  (about 450 of 650 µs), and so most of its latency under load.

A link is made only after validation, so a URL that would get a 4xx never has one. It points at
the same entry, under the symbols' generations at the time of the lookup, so new data takes both
ways past the cache together. ``CachedByUrl`` looks only at the routes that have answered
through :func:`cached` in this process: other requests pay no extra Redis round trip.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from marketpulse import metrics
from marketpulse.api.deps import Stores, app_stores, permit, request_claims
from marketpulse.api.envelope import encode_data, respond_encoded
from marketpulse.api.errors import handler_for
from marketpulse.api.security import Claims, allowed
from marketpulse.errors import StoreError


@dataclass(frozen=True, slots=True)
class CachedRoute:
    """A route that answers through :func:`cached`, and its gate (its one dependency)."""

    route: APIRoute
    gate: Callable[[Request], Awaitable[Any]]


def cached_routes(request: Request) -> dict[str, CachedRoute]:
    """The app's routes seen answering through :func:`cached`, by path."""
    found: dict[str, CachedRoute] = request.app.state.cached_routes
    return found


def _url(route: APIRoute, scope: Scope) -> str:
    """The request's URL, with the route that answers it: a link is found only through the
    route (and so the gate) that made it."""
    return f"{route.path} {scope['path']}?{scope['query_string'].decode('latin-1')}"


async def cached(
    request: Request,
    stores: Stores,
    params: Mapping[str, Any],
    symbols: Sequence[str],
    produce: Callable[[], Awaitable[Any]],
    also: str | None = None,
) -> Response:
    """The cached answer for this route and ``params``, or ``produce()``'s, then cached; either
    way the request's URL is linked to it.

    ``also``: an action the route has required of this caller beyond its gate. The link keeps
    it, and a caller whose roles do not allow it is sent on to the route for its refusal.
    """
    route: APIRoute = request.scope["route"]
    routes = cached_routes(request)
    if route.path not in routes:
        gate = route.dependant.dependencies[0].call  # every route has exactly one gate
        routes[route.path] = CachedRoute(route, cast(Callable[[Request], Awaitable[Any]], gate))
    ttl = stores.settings.api_cache_ttl_s
    try:
        key, hit = await stores.responses.get(route.path, params, symbols)
    except StoreError:
        key, hit = None, None
    if hit is not None:
        metrics.API_CACHE.labels("hit", "route").inc()
        data = hit
    else:
        metrics.API_CACHE.labels("miss", "route").inc()
        data = encode_data(await produce())
        if key is not None:
            with contextlib.suppress(StoreError):
                await stores.responses.put(key, data, ttl)
    if key is not None:
        with contextlib.suppress(StoreError):
            url = _url(route, request.scope)
            await stores.responses.link(url, route.path, params, symbols, ttl, also)
    return respond_encoded(request, data, cache_used=hit is not None)


def _allowed(request: Request, stores: Stores, also: str | None) -> bool:
    """Whether the request's token claims the roles for the link's ``also`` (checked before the
    gate counts the request, so that the route can refuse it with its own reason, counted once;
    the gate's answer, with the session's own roles, has the last word)."""
    if also is None:
        return True
    claims = request_claims(request, stores)
    return isinstance(claims, Claims) and allowed(claims.roles, also)


class CachedByUrl:
    """See the module docstring. It sits inside the edge middleware, which gives the answer its
    request id, headers and access log line as for any other."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        found = await self._linked(request)
        if found is None:
            await self.app(scope, receive, send)
            return
        target, body, also = found
        scope["route"] = target.route
        try:
            caller = await target.gate(request)
            if also is not None:
                permit(caller.claims, also)
        except Exception as exc:
            handler = handler_for(request.app, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        else:
            metrics.API_CACHE.labels("hit", "url").inc()
            response = respond_encoded(request, body, cache_used=True)
        await response(scope, receive, send)

    @staticmethod
    async def _linked(request: Request) -> tuple[CachedRoute, bytes, str | None] | None:
        """The route and cached body of a GET whose URL has a link this caller may use."""
        scope = request.scope
        path = scope["path"]
        routes = cached_routes(request).values()
        target = next((r for r in routes if r.route.path_regex.match(path)), None)
        if target is None:
            return None
        stores = app_stores(request)
        try:
            found = await stores.responses.by_url(_url(target.route, scope))
        except StoreError:
            return None
        if found is None or not _allowed(request, stores, found[1]):
            return None
        return target, found[0], found[1]
