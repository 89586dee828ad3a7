"""Every route dependency of every service is a coroutine: FastAPI runs a plain ``def``
dependency in a worker thread, a thread hop (and a GIL hand-over) per request for what is
usually a dictionary lookup. Measured on `GET /v1/billing/balance` (make bench, P3)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from aiflux_runner.openapi import service_app
from aiflux_runner.services import SERVICES
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
    routes = _routes(service_app(service).routes)
    threaded = {f"{route.path}: {call}" for route in routes for call in _sync_calls(route.dependant)}
    assert not threaded, sorted(threaded)
