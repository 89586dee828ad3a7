"""The distributed mode: one service per process, on RabbitMQ, PostgreSQL and Redis."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from aiflux_kit.app import create_app
from aiflux_kit.auth import RemoteSessionVerifier, ServiceTokenAuth
from aiflux_kit.bus import EXCHANGE
from aiflux_kit.bus.rabbitmq import RabbitBroker
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.service import Platform, ServiceUnit
from aiflux_kit.settings import ServiceSettings
from aiflux_kit.tracing_export import trace_internal_calls
from fastapi import FastAPI

from .services import builder, settings_class


def build_unit(service: str) -> tuple[Platform, ServiceUnit]:
    """The service ``service`` configured from its environment."""
    settings: ServiceSettings = settings_class(service)()
    platform = Platform(
        mode="distributed",
        broker=RabbitBroker(settings.amqp_url, exchange=exchange_name(settings.bus_namespace)),
        limiter=RateLimiter.from_url(settings.redis_url),
        data_dir=_data_dir(),
        retry_delays_ms=tuple(settings.retry_delays_ms),
        bus_namespace=settings.bus_namespace,
    )
    unit = builder(service)(platform, settings)
    platform.session_verifier = unit.session_verifier or RemoteSessionVerifier(
        trace_internal_calls(
            httpx.AsyncClient(
                base_url=settings.identity_url,
                timeout=5.0,
                auth=ServiceTokenAuth(service, "identity", settings.service_key.get_secret_value()),
            )
        ),
        ttl=settings.session_cache_ttl_s,
    )
    return platform, unit


def exchange_name(namespace: str) -> str:
    """The topic exchange of an installation."""
    return f"{namespace}.{EXCHANGE}" if namespace else EXCHANGE


def _data_dir() -> Path:

    return Path(os.environ.get("AIFLUX_DATA_DIR", ".data"))


def service_app(service: str, parts: Parts, *, routes: bool = True) -> FastAPI:
    """The app of one process of ``service``: API (``routes``) or a worker/relay's health."""
    platform, unit = build_unit(service)
    if not routes:
        unit.router.routes.clear()
    runtime = Runtime(platform, [unit], parts)
    return create_app(runtime, title=f"AIFLUX {service}")
