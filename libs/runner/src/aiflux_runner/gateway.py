"""A development gateway for `make up`: one base URL in front of the separately running
services, routing public paths as the Kubernetes ingress does. Internal routes are not exposed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

ROUTES = (
    ("/v1/auth", "identity"), ("/v1/account", "identity"), ("/v1/ops/identity", "identity"),
    ("/v1/billing", "billing"), ("/v1/ops/billing", "billing"),
    ("/v1/models", "generation"), ("/v1/generations", "generation"),
    ("/v1/ops/generation", "generation"),
    ("/v1/files", "storage"), ("/v1/ops/storage", "storage"),
    ("/v1/privacy", "privacy"), ("/v1/ops/privacy", "privacy"),
)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "host", "content-length"}


def service_for(path: str) -> str | None:
    """The service that serves ``path``, or None (not public)."""
    for prefix, service in ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return service
    return None


def build_gateway(upstreams: dict[str, str]) -> Starlette:
    """A gateway forwarding to ``upstreams`` (service name → base URL)."""
    client = httpx.AsyncClient(timeout=60.0)

    async def health(request: Request) -> JSONResponse:
        services = {}
        for name, url in upstreams.items():
            try:
                ready = (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.TransportError:
                ready = False
            services[name] = {"status": "ready" if ready else "not-ready"}
        return JSONResponse({"status": "ok", "services": services})

    async def forward(request: Request) -> Response:
        service = service_for(request.url.path)
        if service is None:
            return JSONResponse(
                {"type": "urn:aiflux:problem:not-found", "title": "Not found", "status": 404,
                 "detail": "No such route."}, status_code=404,
                media_type="application/problem+json")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        client_host = request.client.host if request.client else ""
        headers["x-forwarded-for"] = client_host
        upstream = client.build_request(
            request.method, upstreams[service] + request.url.path,
            params=request.query_params, headers=headers, content=_body(request))
        response = await client.send(upstream, stream=True)
        return StreamingResponse(
            response.aiter_raw(), status_code=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP},
            background=BackgroundTask(response.aclose))

    return Starlette(routes=[
        Route("/healthz", health),
        Route("/{path:path}", forward, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
    ])


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk
