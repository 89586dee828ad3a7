"""A development gateway for `make up`: one base URL in front of the separately running
services, routing the public paths exactly as the Kubernetes Ingress does (public_routes.py).

It is shared by every caller, so it keeps nothing of one caller for the next: no cookie jar,
no default headers, no auth; each request carries only what its own caller sent. Paths are
normalised once (percent-decoding, dot segments, repeated slashes) before routing and the
normalised path is what the service receives, so no spelling reaches a route outside the table.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import quote, unquote

import httpx
import uvicorn
from aiflux_kit.errors import Problem, not_found, problem_response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .public_routes import PUBLIC_ROUTES, WEB_ROUTES

Routes = Iterable[tuple[str, str]]

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "trailers",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
        "proxy-connection",
        "host",
        "content-length",
    }
)
# The gateway states where a request came from; a caller's own claims are dropped.
CLIENT_CLAIMS = frozenset(
    {"forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-real-ip"}
)


def gateway_config(app: Any, **options: Any) -> uvicorn.Config:
    """How uvicorn serves a gateway: it is the edge, so it never believes a caller's
    X-Forwarded-For (uvicorn trusts it from 127.0.0.1 by default, i.e. from every local caller)."""
    return uvicorn.Config(app, proxy_headers=False, server_header=False, log_config=None, **options)


# Characters a path keeps unescaped when forwarded (RFC 3986 pchar and "/").
PATH_SAFE = "/:@!$&'()*+,;=-._~"


def ops_routes(services: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The ops API prefixes of ``services`` (for an operator-facing gateway, never the public)."""
    return tuple((f"/v1/ops/{s}", s) for s in services)


def normalise_path(raw_path: str) -> str | None:
    """``raw_path`` decoded once, without dot segments or empty segments; None when it can
    only be an attack (backslashes, control characters), which routes nowhere."""
    path = unquote(raw_path, errors="strict")
    if "\\" in path or any(ord(c) < 0x20 or c == "\x7f" for c in path):
        return None
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return "/" + "/".join(segments) + trailing


def service_for(path: str, routes: Routes = PUBLIC_ROUTES) -> str | None:
    """The service that serves the normalised ``path``, or None (not routed): the first
    prefix of ``routes`` matching whole segments; ``/`` matches every path."""
    for prefix, service in routes:
        if prefix == "/" or path == prefix or path.startswith(prefix + "/"):
            return service
    return None


class NoCookies(CookieJar):
    """A cookie jar that keeps nothing: a Set-Cookie belongs to the caller it was sent to."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def _hop_by_hop(headers: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The fixed hop-by-hop headers plus those a ``Connection`` header names."""
    named = {token.strip().lower() for k, v in headers if k.lower() == "connection" for token in v.split(",")}
    return HOP_BY_HOP | named


def _request_headers(request: Request) -> list[tuple[str, str]]:
    items = request.headers.items()
    dropped = _hop_by_hop(items) | CLIENT_CLAIMS
    headers = [(k, v) for k, v in items if k.lower() not in dropped]
    headers.append(("x-forwarded-for", request.client.host if request.client else ""))
    headers.append(("x-forwarded-proto", request.url.scheme))
    return headers


def _response_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    items = response.headers.multi_items()  # every Set-Cookie on its own line
    dropped = _hop_by_hop(items)
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in items if k.lower() not in dropped]


def build_gateway(
    upstreams: Mapping[str, str],
    *,
    routes: Routes = PUBLIC_ROUTES + WEB_ROUTES,
    health: Mapping[str, Mapping[str, str]] | None = None,
) -> Starlette:
    """A gateway forwarding ``routes`` to ``upstreams`` (service name → base URL).

    A route whose service has no upstream (the web server when ``upstreams`` has no ``web``)
    is left out: its paths answer 404. ``health`` (service → part → base URL of the part's
    /readyz) is what /healthz reports; by default each upstream's only.
    """
    routes = tuple((prefix, service) for prefix, service in routes if service in upstreams)
    parts = health or {name: {"api": url} for name, url in upstreams.items()}
    client = httpx.AsyncClient(timeout=60.0, cookies=NoCookies(), follow_redirects=False, trust_env=False)

    async def healthz(request: Request) -> JSONResponse:
        report = {
            service: {part: await _readiness(client, url) for part, url in by_part.items()}
            for service, by_part in parts.items()
        }
        ready = all(s == "ready" for by_part in report.values() for s in by_part.values())
        return JSONResponse(
            {"status": "ok" if ready else "degraded", "services": report}, status_code=200 if ready else 503
        )

    async def forward(request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        try:
            path = normalise_path(raw_path.decode("latin-1"))
        except UnicodeDecodeError:
            path = None
        service = service_for(path, routes) if path is not None else None
        if path is None or service is None:
            return problem_response(not_found("route"))
        url = upstreams[service] + quote(path, safe=PATH_SAFE)
        query = request.scope.get("query_string", b"").decode("latin-1")
        upstream = client.build_request(
            request.method,
            url + (f"?{query}" if query else ""),
            headers=_request_headers(request),
            content=_body(request),
        )
        try:
            response = await client.send(upstream, stream=True)
        except httpx.TransportError:
            return problem_response(
                Problem(502, "bad-gateway", "Bad gateway", f"The {service} service is not answering.")
            )
        forwarded = StreamingResponse(_relay(response), status_code=response.status_code)
        forwarded.raw_headers = _response_headers(response)
        return forwarded

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/healthz", healthz),
            Route(
                "/{path:path}", forward, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
            ),
        ],
    )


async def _readiness(client: httpx.AsyncClient, base_url: str) -> str:
    try:
        ready = (await client.get(f"{base_url}/readyz", timeout=5.0)).status_code == 200
    except httpx.TransportError:
        ready = False
    return "ready" if ready else "not-ready"


async def _relay(response: httpx.Response) -> AsyncIterator[bytes]:
    # Closed even when the caller goes away mid-body, so an unfinished upstream connection is
    # dropped, never handed to the next caller.
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk
