"""Traces go to an OTLP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set, and one trace covers a
whole flow: the HTTP request that writes an event, the relay publishing it to RabbitMQ, the
consumer handling it, and the internal HTTP call the handler makes to another service.

The collector here is a small OTLP/HTTP receiver decoding the protobuf export requests with
opentelemetry-proto, as a real collector would. Without an endpoint nothing is installed.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiflux_kit.bus.rabbitmq import RabbitBroker
from aiflux_kit.http import processor_client
from aiflux_kit.testing import TestSessions, eventually
from aiflux_kit.tracing_export import configure_tracing, uninstrument_libraries
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq]


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    name: str
    kind: int
    attributes: dict[str, str]


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on a free local port."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ExportHandler)
        self.spans: list[ReceivedSpan] = []
        self.paths: set[str] = set()
        self.third_party_headers: list[dict[str, str]] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ExportHandler(BaseHTTPRequestHandler):
    server: Collector

    def do_GET(self) -> None:
        """Plays a third party (an AI provider) and keeps the headers it was sent."""
        self.server.third_party_headers.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest.FromString(body)
        self.server.paths.add(self.path)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.server.spans.extend(
                    ReceivedSpan(
                        span.trace_id.hex(),
                        span.name,
                        span.kind,
                        {a.key: str(a.value.string_value) for a in span.attributes},
                    )
                    for span in scope_spans.spans
                )
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def rabbit_vhost(amqp_url: str) -> Iterator[str]:
    """The AMQP URL of a vhost of this test's own (nothing left on the broker afterwards)."""
    name = f"trace{uuid.uuid4().hex[:10]}"
    ctl = "rabbitmqctl"
    subprocess.run([ctl, "add_vhost", name], check=True, capture_output=True, timeout=60)
    subprocess.run(
        [ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield amqp_url.rstrip("/") + f"/{name}"
    finally:
        subprocess.run([ctl, "delete_vhost", name], capture_output=True, timeout=60)


async def test_one_trace_from_request_through_broker_and_consumer_to_internal_call(
    stack_factory, collector: Collector, rabbit_vhost: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
    processor = configure_tracing("aiflux-test")
    assert processor is not None
    sessions = TestSessions()
    try:
        async with stack_factory(
            services=["privacy", "billing", "storage"],
            platform_overrides={"session_verifier": sessions, "broker": RabbitBroker(rabbit_vhost)},
        ) as stack:
            _, headers = sessions.sign_in()
            filed = await stack.client.post(
                "/v1/privacy/requests?token=s3cret",
                json={"type": "access"},
                headers={**headers, "User-Agent": "Mozilla/5.0 (Person)"},
            )
            assert filed.status_code == 202, filed.text
            request_id = filed.json()["id"]
            storage_call = f"PUT /internal/storage/exports/{request_id}/objects/billing.json"

            async def billing_part_stored() -> bool:
                processor.force_flush()
                return any(s.name == storage_call for s in collector.spans)

            await eventually(billing_part_stored, timeout=30)

            # Inside a trace, a call to a third party carries no trace context.
            settings = stack.unit("billing").settings
            with trace.get_tracer("test").start_as_current_span("provider call"):
                async with processor_client("wavespeed", settings, base_url=collector.endpoint) as provider:
                    assert (await provider.get("/api/v3/predictions")).status_code == 200
    finally:
        processor.force_flush()
        processor.shutdown()
        uninstrument_libraries()

    assert collector.paths == {"/v1/traces"}
    (sent,) = collector.third_party_headers
    assert "traceparent" not in sent and "tracestate" not in sent
    (request_trace,) = {
        s.trace_id
        for s in collector.spans
        if s.kind == Span.SPAN_KIND_SERVER and s.name == "POST /v1/privacy/requests"
    }
    flow = [s for s in collector.spans if s.trace_id == request_trace]
    kinds_named = {(s.kind, s.name) for s in flow}
    export_key = "privacy.export_requested.v1"
    assert (Span.SPAN_KIND_PRODUCER, f"publish {export_key}") in kinds_named, kinds_named
    assert any(
        s.kind == Span.SPAN_KIND_CONSUMER
        and s.name == f"consume {export_key}"
        and s.attributes.get("messaging.consumer", "").startswith("billing")
        for s in flow
    ), kinds_named
    assert any(s.kind == Span.SPAN_KIND_CLIENT and s.name == "PUT" for s in flow), kinds_named
    assert (Span.SPAN_KIND_SERVER, storage_call) in kinds_named, kinds_named
    assert any(s.attributes.get("db.system") == "postgresql" for s in flow), "no SQL spans"
    assert any(s.kind == Span.SPAN_KIND_PRODUCER and "aiflux.events" in s.name for s in flow), (
        "no aio-pika publish span"
    )
    exported = json.dumps([(s.name, s.attributes) for s in collector.spans])
    token = headers["Authorization"].removeprefix("Bearer ")
    for personal in (token, "s3cret", "Mozilla/5.0 (Person)"):
        assert personal not in exported


def test_no_endpoint_installs_no_tracer_and_no_tracing_middleware(tmp_path):
    script = (
        "from pathlib import Path\n"
        "from opentelemetry import trace\n"
        "from aiflux_kit.app import create_app\n"
        "from aiflux_kit.bus.local import LocalBroker\n"
        "from aiflux_kit.ratelimit import RateLimiter\n"
        "from aiflux_kit.runtime import Parts, Runtime\n"
        "from aiflux_kit.service import Platform\n"
        "from aiflux_kit.tracing_export import configure_tracing\n"
        "assert configure_tracing('aiflux-billing') is None\n"
        "platform = Platform(mode='embedded', broker=LocalBroker('postgresql://x@/bus'),\n"
        "                    limiter=RateLimiter.from_url(None), data_dir=Path('.'))\n"
        "app = create_app(Runtime(platform, [], Parts()), title='t')\n"
        "print(type(trace.get_tracer_provider()).__name__)\n"
        "print(','.join(m.cls.__name__ for m in app.user_middleware))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    provider, middleware = done.stdout.split()
    assert provider == "ProxyTracerProvider"
    assert "OpenTelemetryMiddleware" not in middleware.split(",")


async def test_an_incoming_trace_context_travels_into_the_events_a_request_writes(stack_factory):
    """With or without export, the caller's trace id reaches the event envelope, so whatever
    handles the event later joins the caller's trace."""
    from sqlalchemy import text

    sessions = TestSessions()
    trace_id = uuid.uuid4().hex
    async with stack_factory(
        services=["privacy"], platform_overrides={"session_verifier": sessions}
    ) as stack:
        _, headers = sessions.sign_in()
        filed = await stack.client.post(
            "/v1/privacy/requests",
            json={"type": "access"},
            headers={**headers, "traceparent": f"00-{trace_id}-{'1' * 16}-01"},
        )
        assert filed.status_code == 202, filed.text
        async with stack.unit("privacy").database.transaction() as session:
            bodies = (
                (
                    await session.execute(
                        text("SELECT body FROM outbox WHERE routing_key = 'privacy.export_requested.v1'")
                    )
                )
                .scalars()
                .all()
            )
    (body,) = bodies
    assert json.loads(body)["traceparent"].split("-")[1] == trace_id
