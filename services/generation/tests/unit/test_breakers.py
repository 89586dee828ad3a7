"""The providers' circuit breakers (purgatory, maintained and async; aiobreaker was last
released in 2021) and their gauge, without any server."""

from __future__ import annotations

import asyncio
from importlib.metadata import requires

import pytest
from aiflux_generation.adapters.providers.base import (
    Breakers,
    ProviderRejected,
    ProviderUnavailable,
)
from aiflux_generation.metrics import breaker_metrics

pytestmark = pytest.mark.unit


def test_generation_depends_on_a_maintained_breaker() -> None:
    declared = " ".join(requires("aiflux-generation") or [])
    assert "purgatory" in declared and "aiobreaker" not in declared


async def _down() -> None:
    raise ProviderUnavailable("wavespeed answered 503")


async def _refused() -> None:
    raise ProviderRejected("The provider refused the request (400).")


async def _open_gauge(breakers: Breakers) -> dict[tuple[str, ...], float]:
    [metric] = await breaker_metrics(breakers, ["gemini", "wavespeed"])()
    return {tuple(s.labels.values()): s.value for s in metric.samples}


async def test_availability_failures_open_the_breaker_and_the_gauge_shows_it() -> None:
    breakers = Breakers(fail_max=2, reset_s=60)
    for _ in range(5):  # refusals are answers, not outages
        with pytest.raises(ProviderRejected):
            await breakers.call("wavespeed", _refused)
    assert not breakers.is_open("wavespeed")
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="503"):
            await breakers.call("wavespeed", _down)
    assert breakers.is_open("wavespeed") and not breakers.is_open("gemini")
    assert breakers.states() == {"wavespeed": "open"}
    assert await _open_gauge(breakers) == {("gemini",): 0.0, ("wavespeed",): 1.0}

    calls: list[str] = []

    async def answer() -> str:
        calls.append("sent")
        return "ok"

    with pytest.raises(ProviderUnavailable, match="circuit open"):
        await breakers.call("wavespeed", answer)
    assert calls == []  # an open breaker does not reach the provider


async def test_after_the_reset_one_good_answer_closes_it_again() -> None:
    breakers = Breakers(fail_max=1, reset_s=0.05)
    with pytest.raises(ProviderUnavailable):
        await breakers.call("gemini", _down)
    assert breakers.is_open("gemini")
    await asyncio.sleep(0.1)
    assert not breakers.is_open("gemini")

    async def answer() -> str:
        return "ok"

    assert await breakers.call("gemini", answer) == "ok"
    assert breakers.states() == {"gemini": "closed"}
    assert await _open_gauge(breakers) == {("gemini",): 0.0, ("wavespeed",): 0.0}
