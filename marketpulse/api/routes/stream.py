"""``/stream``: live bars, indicators and signals over a WebSocket.

Authenticate with ``?token=<access token>`` or an ``Authorization: Bearer`` header. Then send

    {"action": "subscribe", "channels": ["bars", "signals"], "symbols": ["AAPL", "MSFT"]}
    {"action": "unsubscribe", "channels": ["bars"], "symbols": ["AAPL"]}
    {"action": "auth", "token": "<a newer access token>"}   (before the current one expires)
    {"action": "ping"}

and receive ``{"type": "bars", "symbol": "AAPL", "data": {...}}`` per record, plus
``subscribed``, ``unsubscribed``, ``pong`` and ``error`` replies. Close codes: 1008 for a bad or
expired token, an ended session (logout, a role change, expiry: see
:mod:`marketpulse.api.sockets`) or one connection too many for the user or address; 1003 for a
binary frame; 1013 when the client reads too slowly to keep up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from dataclasses import replace
from typing import Any

import orjson
from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marketpulse import metrics
from marketpulse.api import security
from marketpulse.api.deps import Stores, session_roles
from marketpulse.api.live import CHANNELS, Hub, Subscriber
from marketpulse.api.params import is_symbol
from marketpulse.api.routers import api_router
from marketpulse.api.security import AuthError, Claims
from marketpulse.api.sockets import FEED_ACTION, POLICY_CLOSE_CODE, Socket, Sockets

router = api_router("", "live")
UNSUPPORTED_DATA = 1003  # RFC 6455: a kind of data the endpoint cannot accept
MAX_SUBSCRIPTIONS = 200


class Command(BaseModel):
    """A client message."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^(subscribe|unsubscribe|auth|ping)$")
    channels: list[str] = Field(default_factory=list, max_length=len(CHANNELS))
    symbols: list[str] = Field(default_factory=list, max_length=MAX_SUBSCRIPTIONS)
    token: str | None = Field(None, max_length=4096)


async def _authenticate(stores: Stores, token: str | None) -> Claims:
    if not token:
        raise AuthError("send an access token: ?token=... or Authorization: Bearer ...")
    secret = stores.settings.jwt_secret.get_secret_value()
    claims = security.verify(secret, token, "access", stores.now())
    roles = await session_roles(stores, claims)
    if roles is None:
        raise AuthError("the session has ended")
    claims = replace(claims, roles=roles)
    if not security.allowed(claims.roles, FEED_ACTION):
        raise AuthError("not allowed to read market data")
    return claims


def _token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return websocket.query_params.get("token")


def _reply(kind: str, **fields: Any) -> bytes:
    return orjson.dumps({"type": kind, **fields})


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """The live feed (see the module docstring for the protocol)."""
    stores: Stores = websocket.app.state.stores
    hub: Hub = websocket.app.state.hub
    sockets: Sockets = websocket.app.state.sockets
    await websocket.accept()
    try:
        claims = await _authenticate(stores, _token(websocket))
    except AuthError as exc:
        metrics.API_AUTH_FAILURES.labels("websocket").inc()
        await websocket.close(POLICY_CLOSE_CODE, str(exc)[:120])
        return

    async def close(code: int, reason: str) -> None:
        sender.cancel()
        # The close frame queues behind what the client has yet to read; the server's close
        # timeout drops the connection if the client never reads it.
        with contextlib.suppress(Exception):
            await websocket.close(code, reason)

    address = websocket.client.host if websocket.client else "unknown"
    socket = Socket(address, claims, close)
    refused = sockets.admit(socket)
    if refused is not None:
        await websocket.close(POLICY_CLOSE_CODE, refused)
        return
    subscriber = Subscriber(stores.settings.ws_queue_size, close)

    async def send_loop() -> None:
        while True:
            await websocket.send_bytes(await subscriber.queue.get())

    sender = asyncio.create_task(send_loop())
    metrics.WS_CLIENTS.inc()
    try:
        while True:
            remaining = (claims.expires - stores.now()).total_seconds()
            try:
                message = await asyncio.wait_for(websocket.receive(), max(remaining, 0.001))
            except TimeoutError:
                await close(POLICY_CLOSE_CODE, "token expired; reconnect with a new one")
                return
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:  # a binary frame: the protocol is JSON text
                await close(UNSUPPORTED_DATA, "send commands as text frames of JSON")
                return
            claims = socket.claims = await _handle(stores, hub, subscriber, claims, raw)
    except (WebSocketDisconnect, RuntimeError):  # the client left
        pass
    finally:
        metrics.WS_CLIENTS.dec()
        sockets.remove(socket)
        hub.remove(subscriber)
        sender.cancel()


async def _handle(
    stores: Stores, hub: Hub, subscriber: Subscriber, claims: Claims, raw: str
) -> Claims:
    try:
        command = Command.model_validate_json(raw)
    except ValidationError as exc:
        subscriber.offer(_reply("error", code="INVALID_MESSAGE", message=exc.errors()[0]["msg"]))
        return claims
    if command.action == "ping":
        subscriber.offer(_reply("pong", ts=dt.datetime.now(dt.UTC).isoformat()))
    elif command.action == "auth":
        try:
            renewed = await _authenticate(stores, command.token)
        except AuthError as exc:
            subscriber.offer(_reply("error", code="UNAUTHORIZED", message=str(exc)))
            return claims
        if renewed.subject != claims.subject:
            message = "a connection stays with the user who opened it"
            subscriber.offer(_reply("error", code="UNAUTHORIZED", message=message))
            return claims
        subscriber.offer(_reply("authenticated", expires=renewed.expires.isoformat()))
        return renewed
    else:
        unknown = sorted(set(command.channels) - set(CHANNELS))
        symbols = [s.upper() for s in command.symbols]
        if unknown or not all(map(is_symbol, symbols)) or not command.channels or not symbols:
            message = f"channels must be some of {list(CHANNELS)}, with at least one valid symbol"
            subscriber.offer(_reply("error", code="INVALID_SUBSCRIPTION", message=message))
            return claims
        for channel in command.channels:
            for symbol in symbols:
                if command.action == "subscribe":
                    if len(subscriber.subscriptions) >= MAX_SUBSCRIPTIONS:
                        subscriber.offer(
                            _reply(
                                "error",
                                code="TOO_MANY_SUBSCRIPTIONS",
                                message=f"at most {MAX_SUBSCRIPTIONS}",
                            )
                        )
                        return claims
                    hub.subscribe(subscriber, channel, symbol)
                else:
                    hub.unsubscribe(subscriber, channel, symbol)
        subscriber.offer(
            _reply(
                f"{command.action}d",
                subscriptions=sorted(f"{c}:{s}" for c, s in subscriber.subscriptions),
            )
        )
    return claims
