"""Tracing and logging: one trace from the HTTP request through the outbox row, the bus
headers and the consumer's span; JSON logs that carry ids, never personal data."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[uuid.UUID | None] = ContextVar("aiflux_correlation_id", default=None)
"""The correlation id of the work in progress (a request, or the event being handled)."""


def tracer(name: str = "aiflux") -> trace.Tracer:
    """The tracer for ``name``."""
    return trace.get_tracer(name)


def setup_tracing(
    service: str, exporter: SpanExporter | None = None, *, batch: bool = True
) -> SpanProcessor | None:
    """Install a tracer provider once per process (kept if one is set already) and send its
    spans to ``exporter``; returns the processor added for it (to flush or shut down)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = trace.get_tracer_provider()
    else:
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        trace.set_tracer_provider(provider)
    if exporter is None:
        return None
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)  # type: ignore[attr-defined]
    return processor


# Attributes the HTTP instrumentation records that can identify a person or carry a secret
# (client IP, user agent, query strings with tokens). Traces keep ids and paths only.
_PERSONAL_SPAN_ATTRIBUTES = (
    "net.peer.ip",
    "net.peer.port",
    "client.address",
    "client.port",
    "http.client_ip",
    "http.user_agent",
    "user_agent.original",
    "url.query",
)


def scrub_server_span(span: trace.Span, scope: dict[str, Any]) -> None:
    """Overwrite personal data the ASGI instrumentation put on a server span."""
    if not span.is_recording():
        return
    for key in _PERSONAL_SPAN_ATTRIBUTES:
        span.set_attribute(key, "[redacted]")
    path = redact_path(scope.get("path", ""))
    span.set_attribute("http.target", path)
    span.set_attribute("http.url", path)
    span.set_attribute("url.full", path)
    span.set_attribute("url.path", path)
    span.update_name(f"{scope.get('method', '')} {path}".strip())


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def redact_path(path: str) -> str:
    """``path`` with secret-looking segments (signed download tokens, webhook secrets) masked;
    ids (UUIDs) and route words stay."""
    return "/".join(
        "[token]" if len(part) >= 24 and not _UUID.fullmatch(part) else part for part in path.split("/")
    )


def inject_trace() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``, ``tracestate``)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract_trace(carrier: dict[str, Any]) -> otel_context.Context:
    """A context whose parent is the span described by ``carrier``'s W3C headers."""
    return propagate.extract({k: str(v) for k, v in carrier.items() if v is not None})


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            record.trace_id = format(span.trace_id, "032x")
            record.span_id = format(span.span_id, "016x")
        cid = correlation_id.get()
        if cid is not None:
            record.correlation_id = str(cid)
        return True


def setup_logging(level: str = "INFO") -> None:
    """JSON logs on stdout with trace and correlation ids.

    Log ids (user id, event id), never names, emails, IPs or prompts: personal data belongs only
    in identity's security log.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "asctime": "time"},
        )
    )
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
