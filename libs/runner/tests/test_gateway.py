"""The `make up` gateway: one base URL shared by every caller, in front of real services."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from aiflux_identity.testing import register_and_login
from aiflux_runner.gateway import build_gateway, gateway_config, service_for
from aiflux_runner.public_routes import PUBLIC_ROUTES, WEB, WEB_ROUTES
from aiflux_runner.services import SERVICES
from aiflux_web.app import create_web_app
from aiflux_web.settings import WebSettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

pytestmark = [pytest.mark.needs_postgres]


@contextlib.asynccontextmanager
async def serving(app) -> AsyncIterator[int]:  # type: ignore[no-untyped-def]
    """``app`` on a free port of 127.0.0.1 (yields the port), served as `make up` serves the
    gateway."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(gateway_config(app, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


async def raw_request(
    port: int, target: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request with ``target`` sent exactly as written (no client-side
    normalisation of dot segments or escapes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"{method} {target} HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: close",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    if parsed.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return int(status_line.split()[1]), parsed, body


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out


async def test_an_anonymous_caller_never_gets_the_previous_callers_session(stack_factory):
    async with (
        stack_factory(services=["identity"]) as stack,
        serving(build_gateway({s: stack.base_url for s in SERVICES})) as port,
    ):
        gateway = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=gateway) as user_a:
            signed = await register_and_login(user_a, stack.data_dir)
            mine = await user_a.get("/v1/account")
            assert mine.status_code == 200 and mine.json()["username"] == signed.username
        async with httpx.AsyncClient(base_url=gateway) as anonymous:
            account = await anonymous.get("/v1/account")
            assert account.status_code == 401, account.text
            sessions = await anonymous.get("/v1/account/sessions")
            assert sessions.status_code == 401, sessions.text


OUTSIDE_THE_TABLE = [
    "/internal/identity/sessions/introspect",
    "/v1/auth/..%2F..%2Finternal/identity/sessions/introspect",
    "/v1/auth/%2e%2e/%2e%2e/internal/identity/sessions/introspect",
    "/v1/auth/../../internal/identity/sessions/introspect",
    "/v1/auth/..%5c..%5cinternal/identity/sessions/introspect",
    "//internal/identity/sessions/introspect",
    "/v1/auth//..//..//internal/identity/sessions/introspect",
    "/INTERNAL/identity/sessions/introspect",
    "/v1/ops/identity/users",
    "/v1/auth/../ops/identity/users",
    "/v1/account/..%2F..%2Fops%2Fidentity%2Fusers",
    "/v1/filesystem",
    "/healthz/../readyz",
    "/openapi.json",
]
"""Spellings of internal, ops and other non-public routes (each exists on the service)."""


async def test_no_spelling_reaches_a_route_outside_the_public_table(stack_factory):
    async with (
        stack_factory(services=["identity"]) as stack,
        serving(build_gateway({s: stack.base_url for s in SERVICES})) as port,
    ):
        for target in OUTSIDE_THE_TABLE:
            status, headers, body = await raw_request(port, target, method="POST")
            assert status == 404, (target, status, body)
            assert headers["content-type"] == "application/problem+json"
            assert json.loads(body)["type"] == "urn:aiflux:problem:not-found"


async def test_a_path_that_normalises_into_the_table_reaches_that_route_only(stack_factory):
    async with (
        stack_factory(services=["identity"]) as stack,
        serving(build_gateway({s: stack.base_url for s in SERVICES})) as port,
    ):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as user:
            signed = await register_and_login(user, stack.data_dir)
        cookie = "; ".join(f"{k}={v}" for k, v in signed.cookies.items())
        status, _, body = await raw_request(port, "/v1/auth/..%2Faccount", {"Cookie": cookie})
        assert status == 200 and json.loads(body)["username"] == signed.username


def echo_upstream() -> Starlette:
    """A service that shows what reached it and sets two cookies."""

    async def echo(request: Request) -> Response:
        response = JSONResponse(
            {"path": request.url.path, "headers": [[k, v] for k, v in request.headers.items()]}
        )
        response.set_cookie("session", "secret-of-whoever-logged-in")
        response.set_cookie("csrf", "token-of-whoever-logged-in")
        return response

    return Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])


async def test_callers_share_no_state_and_no_hop_by_hop_header_passes():
    async with serving(echo_upstream()) as upstream_port:
        upstream = f"http://127.0.0.1:{upstream_port}"
        async with serving(build_gateway({s: upstream for s in SERVICES})) as port:
            status, _, _ = await raw_request(port, "/v1/auth/login", method="POST")
            assert status == 200
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as caller:
                first = await caller.get("/v1/files", headers={"Authorization": "Bearer mine"})
                assert sorted(first.cookies) == ["csrf", "session"]  # both Set-Cookie lines
            status, _, body = await raw_request(
                port,
                "/v1/files",
                {
                    "Connection": "close, X-Hop",
                    "X-Hop": "1",
                    "Keep-Alive": "timeout=5",
                    "Proxy-Authorization": "Basic eA==",
                    "X-Forwarded-For": "203.0.113.9",
                    "Forwarded": "for=203.0.113.9",
                    "X-Real-IP": "203.0.113.9",
                },
            )
            received = {k: v for k, v in json.loads(body)["headers"]}
            assert status == 200
            assert "cookie" not in received and "authorization" not in received
            for hop in ("x-hop", "keep-alive", "proxy-authorization", "forwarded", "x-real-ip"):
                assert hop not in received, hop
            assert received["x-forwarded-for"] == "127.0.0.1"


async def test_health_reports_each_part_and_a_dead_one_is_not_ready():
    async with serving(echo_upstream()) as live_port:
        live = f"http://127.0.0.1:{live_port}"
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
            gateway = build_gateway(
                {"privacy": live}, health={"privacy": {"api": live, "worker": dead, "relay": live}}
            )
            async with (
                serving(gateway) as port,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
            ):
                health = await client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["services"] == {
            "privacy": {"api": "ready", "worker": "not-ready", "relay": "ready"}
        }


async def test_every_path_outside_the_api_table_goes_to_the_web_server_which_leaks_nothing(stack_factory):
    async with (
        stack_factory(services=["identity", "privacy"]) as stack,
        serving(create_web_app(WebSettings(public_url=stack.base_url))) as web_port,
        serving(
            build_gateway({**{s: stack.base_url for s in SERVICES}, WEB: f"http://127.0.0.1:{web_port}"})
        ) as port,
    ):
        for target in OUTSIDE_THE_TABLE:
            status, headers, body = await raw_request(port, target, method="POST")
            # The web server answers (its CSP header says so), never the service behind it;
            # a backslash routes nowhere (the gateway answers itself).
            assert ("content-security-policy" in headers) != ("%5c" in target), target
            assert status == 404, (target, status, body)
            assert headers["content-type"] == "application/problem+json"
            assert json.loads(body)["type"] == "urn:aiflux:problem:not-found"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as browser:
            for path in ("/", "/signup", "/verify-email", "/ops/", "/ops/requests"):
                page = await browser.get(path)
                assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
            assert (await browser.get("/ops")).headers["location"] == "/ops/"
            policy = await browser.get("/privacy/policy")
            assert policy.status_code == 200 and "Data Controller" in policy.text
            # API prefixes still win over the catch-all.
            api = await browser.get("/v1/privacy/policy")
            assert (
                api.headers["content-type"] == "application/json" and "Data Controller" in api.json()["text"]
            )
            assert (await browser.get("/v1/privacy/policyx")).headers[
                "content-type"
            ] == "application/problem+json"
            # The console's relay answers 401 for nobody: the service decides, not the edge.
            relay = await browser.get("/ops/api/privacy/requests")
            assert relay.status_code == 401
            health = await browser.get("/healthz")
            assert health.json()["services"]["web"] == {"api": "ready"}


def test_the_web_routes_come_after_every_api_prefix():
    routes = PUBLIC_ROUTES + WEB_ROUTES
    assert service_for("/v1/files/abc", routes) == "storage"
    assert service_for("/v1/filesystem", routes) == WEB
    assert service_for("/ops/api/privacy/requests", routes) == WEB
    assert service_for("/", routes) == WEB
    assert service_for("/internal/identity/sessions/introspect", routes) == WEB
    assert service_for("/internal/identity/sessions/introspect") is None  # the API table alone
