"""One trace covers an HTTP request, the outbox row it wrote, and the handler of the event."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from aiflux_contracts import UserDeleted
from aiflux_kit.app import create_app
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.consumers import HandlerContext, Subscription
from aiflux_kit.db import Database
from aiflux_kit.outbox import add_event
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.service import Platform, ServiceUnit
from aiflux_kit.settings import ServiceSettings
from aiflux_kit.telemetry import setup_tracing
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Request
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from .test_bus_contract import eventually

pytestmark = [pytest.mark.needs_postgres]


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    setup_tracing("kit-tests", exporter, batch=False)
    return exporter


def unit_with_one_route(db: Database, handled: list[str]) -> ServiceUnit:
    router = APIRouter()

    @router.post("/things")
    async def make_thing(request: Request) -> dict[str, str]:
        async with db.transaction() as session:
            await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
        return {"ok": "yes"}

    async def on_deleted(ctx: HandlerContext, event: UserDeleted) -> None:
        handled.append(str(event.user_id))

    return ServiceUnit(
        name="kit",
        settings=ServiceSettings(env="test", database_url=db.url),
        database=db,
        migrations=Path("."),
        router=router,
        container=None,
        subscriptions=[Subscription("trace-check", (UserDeleted,), on_deleted)],
    )


async def test_one_trace_from_request_to_handler(
    spans: InMemorySpanExporter, service_db: Database, pg_database, tmp_path: Path
):
    handled: list[str] = []
    platform = Platform(
        mode="embedded",
        broker=LocalBroker(pg_database("bus"), poll_interval=0.1),
        limiter=RateLimiter.from_url(None),
        data_dir=tmp_path,
    )
    runtime = Runtime(platform, [unit_with_one_route(service_db, handled)], Parts())
    app = create_app(runtime, title="trace test")
    spans.clear()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(
                "/things?token=s3cret", headers={"User-Agent": "Mozilla/5.0 (Person)"}
            )
            assert response.status_code == 200
            await eventually(lambda: len(handled) == 1)
    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind == SpanKind.SERVER and "/things" in s.name]
    producer = [s for s in finished if s.kind == SpanKind.PRODUCER]
    consumer = [s for s in finished if s.kind == SpanKind.CONSUMER]
    assert server and producer and consumer, [s.name for s in finished]
    trace_ids = {s.context.trace_id for s in (server[0], producer[0], consumer[0])}
    assert len(trace_ids) == 1
    assert consumer[0].parent is not None
    exported = repr([dict(s.attributes or {}) for s in finished])
    assert "s3cret" not in exported and "Mozilla" not in exported
    assert "127.0.0.1" not in exported


def test_secret_path_segments_are_masked_in_traces():
    from aiflux_kit.telemetry import redact_path

    token = "eyJrIjoidXNlcnMvMTIzIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    assert redact_path(f"/v1/files/download/{token}") == "/v1/files/download/[token]"
    job = "6f1c1e9e-7a9c-4a8a-9d6f-0a2a8b5c1d11"
    secret = "a" * 43
    assert (
        redact_path(f"/v1/generation/webhooks/runpod/{job}/{secret}")
        == f"/v1/generation/webhooks/runpod/{job}/[token]"
    )
