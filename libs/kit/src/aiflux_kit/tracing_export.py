"""Trace export over OTLP, switched on by ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the standard
OpenTelemetry variable; ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` and ``OTEL_SERVICE_NAME`` are
honoured too).

With an endpoint: an SDK tracer provider exporting in batches over OTLP/HTTP (protobuf), the
ASGI server middleware, and instrumentation of SQLAlchemy and aio-pika beside the kit's own outbox
and consumer spans. httpx is instrumented per client, only for calls between our services
(``http.peer_client``): a third party (AI provider, Stripe, object storage) never receives our
``traceparent``.
Without one: no provider, no span is ever recorded; a small middleware only carries an incoming
W3C ``traceparent`` into the request's context, so events written by the request (their
envelopes) and the services they reach still share the caller's trace.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from starlette.types import ASGIApp, Receive, Scope, Send

from .telemetry import extract_trace, redact_path, scrub_server_span, setup_tracing

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def export_configured() -> bool:
    """True when an OTLP endpoint is set in the environment."""
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def tracing_enabled() -> bool:
    """True when this process records spans (an SDK tracer provider is installed)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def configure_tracing(service_name: str) -> SpanProcessor | None:
    """Export this process's traces over OTLP when an endpoint is set; otherwise do nothing (no
    provider, no instrumentation, no cost). Returns the exporting processor, None when off."""
    if not export_configured():
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    processor = setup_tracing(os.environ.get("OTEL_SERVICE_NAME") or service_name, OTLPSpanExporter())
    instrument_libraries()
    return processor


def instrument_libraries() -> None:
    """Client spans for SQLAlchemy and aio-pika (idempotent)."""
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    for instrumentor, options in (
        # Statements only (bound values stay out of spans); no SQL comments with trace ids. Its
        # declared range stops below SQLAlchemy 2.1, whose engine events it uses unchanged.
        (SQLAlchemyInstrumentor(), {"enable_commenter": False, "skip_dep_check": True}),
        (AioPikaInstrumentor(), {}),
    ):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**options)


def uninstrument_libraries() -> None:
    """Undo :func:`instrument_libraries` (tests that switch tracing on for a while)."""
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    for instrumentor in (SQLAlchemyInstrumentor(), AioPikaInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def trace_internal_calls(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """``client`` (a client for another AIFLUX service) with client spans and ``traceparent``
    on its requests while tracing is on; unchanged otherwise."""
    if tracing_enabled():
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(client, request_hook=_scrub_client_span_async)
    return client


def scrub_client_span(span: trace.Span, request: Any) -> None:
    """Keep only the host and path of an internal call: no query string, and long path segments
    (tokens) masked, as on server spans."""
    if not span.is_recording():
        return
    url = request.url
    path = redact_path(url.path if hasattr(url, "path") else url[3].decode("latin-1"))
    host = url.host if hasattr(url, "host") else url[1].decode("latin-1")
    for key in ("http.url", "url.full"):
        span.set_attribute(key, f"{host}{path}")


async def _scrub_client_span_async(span: trace.Span, request: Any) -> None:
    scrub_client_span(span, request)


class _PropagateTraceContext:
    """Without tracing: attach an incoming ``traceparent`` so that events the request writes
    carry it (the API's no-op tracer passes a parent's context through unchanged)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope.get("headers", ())
            if k in (b"traceparent", b"tracestate")
        }
        if not headers:
            await self.app(scope, receive, send)
            return
        token = otel_context.attach(extract_trace(headers))
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)


def install_trace_middleware(app: FastAPI) -> None:
    """Server spans when tracing is on; trace-context pass-through when it is off."""
    if tracing_enabled():
        app.add_middleware(OpenTelemetryMiddleware, server_request_hook=scrub_server_span)
    else:
        app.add_middleware(_PropagateTraceContext)
