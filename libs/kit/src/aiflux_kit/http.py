"""Outbound HTTP: one client factory for every call that leaves a service.

- :func:`processor_client` is the only way to reach a third party. It names the processor the
  data goes to and refuses, before a byte is sent, any host that does not belong to that
  processor in the registry of §6 of the privacy policy (``policy/processors.json``).
- :func:`peer_client` calls another AIFLUX service's internal routes, signed as the caller.
- :func:`retrying` retries only connection errors and 5xx (for idempotent calls).
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from .auth import ServiceTokenAuth
from .settings import ServiceSettings
from .tracing_export import trace_internal_calls

T = TypeVar("T")

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class UnregisteredProcessor(Exception):
    """Personal data was about to go to a host that no registered processor owns."""


@dataclass(frozen=True)
class Processor:
    """One entry of the processor registry (§6)."""

    id: str
    name: str
    country: str
    purpose: str
    data_categories: tuple[str, ...]
    transfer_basis: str
    hosts: tuple[str, ...]

    def owns(self, host: str) -> bool:
        """True when ``host`` is one of this processor's endpoints."""
        return any(fnmatch.fnmatch(host.lower(), pattern) for pattern in self.hosts)


@cache
def processor_registry() -> dict[str, Processor]:
    """The processor registry, as data shipped with the kit."""
    raw = json.loads(resources.files("aiflux_kit.policy").joinpath("processors.json").read_text())
    return {
        p["id"]: Processor(
            p["id"],
            p["name"],
            p["country"],
            p["purpose"],
            tuple(p["data_categories"]),
            p["transfer_basis"],
            tuple(p["hosts"]),
        )
        for p in raw["processors"]
    }


def guard_host(processor: str, host: str, *, allow_local: bool) -> None:
    """Raise :class:`UnregisteredProcessor` unless ``host`` belongs to ``processor``.

    ``allow_local`` admits loopback hosts, where test doubles of the providers listen.
    """
    if allow_local and host in LOCAL_HOSTS:
        return
    entry = processor_registry().get(processor)
    if entry is None or not entry.owns(host):
        raise UnregisteredProcessor(
            f"refusing to send data to {host!r}: not an endpoint of registered processor {processor!r}"
        )


def processor_client(
    processor: str,
    settings: ServiceSettings,
    *,
    base_url: str = "",
    timeout: float = 30.0,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """An httpx client that can only reach ``processor``'s registered hosts."""

    async def _check(request: httpx.Request) -> None:
        guard_host(processor, request.url.host, allow_local=settings.is_local)

    hooks = kwargs.pop("event_hooks", {})
    hooks.setdefault("request", []).insert(0, _check)
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, event_hooks=hooks, **kwargs)


class UnsafeDownload(UnregisteredProcessor):
    """A result URL that is not a plain HTTPS GET to a public address."""


async def _public_addresses_only(request: httpx.Request) -> None:
    if request.method != "GET" or request.url.scheme != "https":
        raise UnsafeDownload(f"only HTTPS GET may fetch results, not {request.method} {request.url.scheme}")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(request.url.host, request.url.port or 443)
    except OSError as exc:
        raise httpx.ConnectError(f"cannot resolve {request.url.host}") from exc
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise UnsafeDownload(f"{request.url.host} resolves to a non-public address")


def result_download_client(settings: ServiceSettings, *, timeout: float = 60.0) -> httpx.AsyncClient:
    """A client for fetching generated results from a provider's CDN links.

    Such a GET sends no personal data, so it is not limited to registered hosts; instead it may
    only GET over HTTPS from public addresses (a provider-supplied URL must never reach our own
    network). Local runs may also fetch from loopback, where the provider stand-ins listen.
    """

    async def _check(request: httpx.Request) -> None:
        if settings.is_local and request.url.host in LOCAL_HOSTS:
            return
        await _public_addresses_only(request)

    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, event_hooks={"request": [_check]})


def peer_client(
    caller: str, audience: str, settings: ServiceSettings, *, timeout: float = 10.0
) -> httpx.AsyncClient:
    """A client for ``audience``'s internal routes, each request signed as ``caller``."""
    base_url = getattr(settings, f"{audience}_url")
    return trace_internal_calls(
        httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            auth=ServiceTokenAuth(caller, audience, settings.service_key.get_secret_value()),
        )
    )


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


async def retrying(call: Callable[[], Awaitable[T]], *, attempts: int = 4) -> T:
    """Run ``call`` again on connection errors and 5xx (raise_for_status inside ``call``)."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=0.2, max=5),
        reraise=True,
    ):
        with attempt:
            return await call()
    raise AssertionError("unreachable")
