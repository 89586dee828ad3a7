"""Generation's gauges for ``/metrics``: each provider's circuit breaker in this process."""

from __future__ import annotations

from collections.abc import Iterable

from aiflux_kit.metrics import MetricsReader, gauge
from prometheus_client.core import Metric

from .adapters.providers.base import Breakers


def breaker_metrics(breakers: Breakers, providers: Iterable[str]) -> MetricsReader:
    """The reader of the breaker gauge: 1 while a provider's calls are refused."""
    names = sorted(providers)

    async def read() -> list[Metric]:
        return [
            gauge(
                "aiflux_generation_provider_breaker_open",
                "1 while the provider's circuit breaker refuses calls",
                ["provider"],
                {(name,): float(breakers.is_open(name)) for name in names},
            )
        ]

    return read
