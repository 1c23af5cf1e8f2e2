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


def test_openapi_lists_every_status_an_operation_can_answer() -> None:
    """What the edge and the gates answer applies to every operation; 404 and 409 to those that
    give them (schemathesis checks the rest against the running API)."""
    paths = _app().openapi()["paths"]
    for operations in paths.values():
        for operation in operations.values():
            assert {"400", "401", "403", "413", "422", "429", "503"} <= set(operation["responses"])
    for path, method in [
        ("/api/v1/market-data/{symbol}/quote", "get"),
        ("/api/v1/market-data/{symbol}/daily", "get"),
        ("/api/v1/indicators/{symbol}/{name}", "get"),
        ("/api/v1/monitoring/jobs/{job_id}", "get"),
    ]:
        assert "404" in paths[path][method]["responses"], path
    for path in ["/api/v1/auth/register", "/api/v1/auth/2fa/verify", "/api/v1/auth/2fa/enroll"]:
        assert "409" in paths[path]["post"]["responses"], path
    roles = paths["/api/v1/security/users/{user_id}/roles"]["put"]["responses"]
    assert "LAST_ADMIN" in roles["409"]["description"]
