"""Every route dependency of every service is a coroutine: FastAPI runs a plain ``def``
dependency in a worker thread, a thread hop (and a GIL hand-over) per request for what is
usually a dictionary lookup. Measured on `GET /v1/billing/balance` (make bench, P3)."""

from __future__ import annotations

import inspect
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiflux_kit.app import create_app
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.service import Platform
from aiflux_runner.services import SERVICES, builder, settings_class
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


def _routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def _sync_calls(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and not (
            inspect.iscoroutinefunction(call)
            or inspect.isasyncgenfunction(call)
            or inspect.iscoroutinefunction(type(call).__call__)  # a callable instance
        ):
            yield f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', call)}"
        yield from _sync_calls(sub)


@pytest.mark.parametrize("service", SERVICES)
def test_no_route_of_the_service_has_a_dependency_run_in_a_thread(service: str) -> None:
    platform = Platform(
        mode="distributed",
        broker=LocalBroker("postgresql+psycopg:///unused"),
        limiter=RateLimiter.from_url(None),
        data_dir=Path(tempfile.gettempdir()),
    )
    unit = builder(service)(platform, settings_class(service)(env="test"))
    app = create_app(Runtime(platform, [unit], Parts(False, False, False, False)), title=service)
    routes = _routes(app.routes)
    threaded = {f"{route.path}: {call}" for route in routes for call in _sync_calls(route.dependant)}
    assert not threaded, sorted(threaded)
