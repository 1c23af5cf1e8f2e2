"""The route table: every endpoint behind one gate; OpenAPI says which ones need a token."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute

from marketpulse.api.deps import SignedIn, rate_limited
from marketpulse.api.main import create_app
from marketpulse.api.routers import API_PREFIX
from marketpulse.api.security import PERMISSIONS
from marketpulse.settings import Settings

PUBLIC = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/login/2fa"),
    ("POST", "/api/v1/auth/refresh"),
    ("GET", "/api/v1/monitoring/health"),
    ("GET", "/api/v1/monitoring/live"),
    ("GET", "/api/v1/monitoring/metrics"),
}


def _app() -> FastAPI:
    return create_app(Settings(jwt_secret="test-secret-" + "0" * 64))


def _api_routes() -> list[APIRoute]:
    app = _app()
    return [r for r in app.routes if isinstance(r, APIRoute) and r.path.startswith(API_PREFIX)]


def test_every_endpoint_has_exactly_one_gate() -> None:
    """Rate limits and sign-in are not left to each route's care: one gate each, no other
    dependency (FastAPI solves every node of the tree on every request)."""
    public, signed_in = set(), set()
    routes = _api_routes()
    assert len(routes) >= 25
    for route in routes:
        calls = [dependant.call for dependant in route.dependant.dependencies]
        assert len(calls) == 1, f"{route.path}: {calls}"
        gate = calls[0]
        key = (next(iter(route.methods)), route.path)
        if gate is rate_limited:
            public.add(key)
        else:
            assert isinstance(gate, SignedIn), f"{route.path}: {gate}"
            assert gate.action is None or gate.action in PERMISSIONS, gate.action
            signed_in.add(key)
    assert public == PUBLIC


def test_openapi_marks_exactly_the_signed_in_operations() -> None:
    schema = _app().openapi()
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/login"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            secured = operation.get("security") == [{"OAuth2PasswordBearer": []}]
            assert secured == ((method.upper(), path) not in PUBLIC), (method, path)


def test_the_stream_is_routed_flat_with_the_rest() -> None:
    sockets = [r.path for r in _app().routes if isinstance(r, APIWebSocketRoute)]
    assert sockets == ["/api/v1/stream"]
