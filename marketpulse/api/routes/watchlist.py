"""``/watchlist``: the signed-in user's watch list, kept on the server so that it follows the
user from browser to browser."""

from __future__ import annotations

from uuid import UUID

from fastapi import Request, Response

from marketpulse.api.deps import Authenticated
from marketpulse.api.envelope import respond
from marketpulse.api.routers import api_router
from marketpulse.schemas.api import Envelope, Watchlist
from marketpulse.storage.repositories.watchlists import WatchlistRepository

router = api_router("/watchlist", "watchlist")


@router.get("", response_model=Envelope[Watchlist])
async def read(request: Request, caller: Authenticated) -> Response:
    """The user's watch list (empty until the user saves one)."""
    lists = WatchlistRepository(caller.stores.pool)
    return respond(request, Watchlist(symbols=await lists.get(UUID(caller.claims.subject))))


@router.put("", response_model=Envelope[Watchlist])
async def replace(request: Request, body: Watchlist, caller: Authenticated) -> Response:
    """Replace the user's watch list (symbols upper-cased, each once, in the order given)."""
    lists = WatchlistRepository(caller.stores.pool)
    saved = await lists.put(UUID(caller.claims.subject), body.symbols)
    return respond(request, Watchlist(symbols=saved))
