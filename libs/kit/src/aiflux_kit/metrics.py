"""Prometheus metrics at ``/metrics`` on every process (API, worker, relay, embedded).

- Requests: rate and latency by method, *route template* and status. Labels never carry a raw
  path (ids, download tokens) nor anything personal; a path no route matched is ``unmatched``.
- Messaging, per service: outbox backlog and the age of its oldest row; per consumer: messages
  waiting and parked. The AIFLUX service is the label ``service_name``: ``service``, ``job``,
  ``pod``, ``namespace``... are the target labels Prometheus itself attaches to every series.
- Domain gauges a service hands in as ``ServiceUnit.metrics`` readers (privacy requests,
  erasures, holds, provider breakers).

Gauges that need a database or broker read are computed when Prometheus scrapes, never on the
request path; each reader has a time limit so one slow dependency cannot stall the scrape.
Every app gets its own registry: the embedded and test stacks build several apps per process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from .runtime import Runtime
    from .service import ServiceUnit

log = logging.getLogger(__name__)

MetricsReader = Callable[[], Awaitable[list[Metric]]]
"""An async reader a service hands in (``ServiceUnit.metrics``): gauge families read at scrape."""

READ_TIMEOUT_S = 5.0
UNMATCHED = "unmatched"


def gauge(
    name: str,
    documentation: str,
    labels: Sequence[str] = (),
    values: Mapping[tuple[str, ...], float] | float = 0.0,
) -> GaugeMetricFamily:
    """A gauge family for a reader: ``values`` maps label values to a number (or is the one
    number of an unlabelled gauge)."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels) or None)
    if isinstance(values, int | float):
        if labels:
            raise ValueError(f"{name}: a labelled gauge needs values per label set")
        family.add_metric([], float(values))
        return family
    for label_values, value in values.items():
        family.add_metric(list(label_values), float(value))
    return family


class _Snapshot(Collector):
    """Hands the families read for the scrape in progress to the registry."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return list(self.families)


class _RequestMetrics:
    """ASGI middleware counting requests by route template and timing them."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, record_status)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", ""))
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (``/v1/files/{file_id}``), never the
    path itself."""
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    return str(path) if path else UNMATCHED


def install_metrics(app: FastAPI, runtime: Runtime) -> None:
    """Count ``app``'s requests and serve ``/metrics`` for every unit of ``runtime``."""
    registry = CollectorRegistry()
    requests = Counter(
        "aiflux_http_requests",
        "HTTP requests by route template and status",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "aiflux_http_request_duration_seconds",
        "HTTP request latency by route template",
        ["method", "route"],
        registry=registry,
    )
    snapshot = _Snapshot()
    registry.register(snapshot)
    readers = scrape_readers(runtime)

    async def metrics(request: Request) -> Response:
        snapshot.families = await read_all(readers)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(_RequestMetrics, requests=requests, latency=latency)


def scrape_readers(runtime: Runtime) -> dict[str, MetricsReader]:
    """Every reader of this process by name: messaging of each unit, then the units' own."""
    readers: dict[str, MetricsReader] = {
        "outbox": lambda: outbox_families(runtime),
        "queues": lambda: queue_families(runtime),
    }
    for unit in runtime.units.values():
        for n, reader in enumerate(unit.metrics):
            readers[f"{unit.name}.{n}"] = reader
    return readers


async def read_all(readers: Mapping[str, MetricsReader]) -> list[Metric]:
    """The families of every reader; a reader that fails or times out is left out (and logged
    by name) so the rest of the scrape still answers."""
    names = list(readers)
    results = await asyncio.gather(
        *(asyncio.wait_for(readers[name](), READ_TIMEOUT_S) for name in names), return_exceptions=True
    )
    families: list[Metric] = []
    failed: dict[tuple[str, ...], float] = {(name,): 0 for name in names}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            log.warning("metrics reader failed", extra={"reader": name, "error": type(result).__name__})
            failed[(name,)] = 1
        else:
            families.extend(result)
    families.append(
        gauge(
            "aiflux_metrics_reader_failed",
            "1 when the metrics reader failed in this scrape",
            ["reader"],
            failed,
        )
    )
    return families


async def outbox_families(runtime: Runtime) -> list[Metric]:
    """Unsent outbox rows and the age of the oldest, per service of this process."""
    backlog: dict[tuple[str, ...], float] = {}
    oldest: dict[tuple[str, ...], float] = {}
    for name, relay in runtime.relays.items():
        count, age = await relay.backlog()
        backlog[(name,)], oldest[(name,)] = count, age
    return [
        gauge("aiflux_outbox_backlog", "Outbox rows not yet published", ["service_name"], backlog),
        gauge(
            "aiflux_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row",
            ["service_name"],
            oldest,
        ),
    ]


async def queue_families(runtime: Runtime) -> list[Metric]:
    """Messages waiting and parked, per consumer of each service of this process."""
    ready: dict[tuple[str, ...], float] = {}
    parked: dict[tuple[str, ...], float] = {}
    for unit in runtime.units.values():
        for spec_labels, stats in await _unit_queue_stats(runtime, unit):
            ready[spec_labels], parked[spec_labels] = stats.ready, stats.parked
    return [
        gauge("aiflux_queue_depth", "Messages waiting for a consumer", ["service_name", "consumer"], ready),
        gauge(
            "aiflux_queue_parked",
            "Messages parked after their last retry",
            ["service_name", "consumer"],
            parked,
        ),
    ]


async def _unit_queue_stats(runtime: Runtime, unit: ServiceUnit) -> list[tuple[Any, Any]]:
    broker = runtime.platform.broker
    found = []
    for subscription in unit.subscriptions:
        spec = runtime.platform.queue_spec(unit.name, subscription)
        try:
            found.append(((unit.name, subscription.name), await broker.queue_stats(spec)))
        except Exception as exc:  # e.g. not declared yet: no worker of this service ran so far
            log.warning("queue not readable", extra={"queue": spec.name, "error": type(exc).__name__})
    return found
