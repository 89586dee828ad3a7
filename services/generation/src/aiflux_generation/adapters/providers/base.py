"""What every provider adapter offers, the errors it raises, and its circuit breaker.

An adapter sends a job to exactly one processor of the registry (§6) through
``aiflux_kit.http.processor_client`` and nothing anywhere else. Errors are sorted by what the
worker may do next:

- :class:`ProviderRejected` (4xx): the provider refused this job; retrying cannot help.
- :class:`ProviderBusy` (429): nothing was created; try again later.
- :class:`ProviderUnavailable` (5xx, timeouts, connection errors): the provider is in trouble;
  these count towards the circuit breaker.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import Context, OpenedState


@dataclass(frozen=True)
class ProviderInput:
    """An input file, read from storage, to send along with the job."""

    file_id: uuid.UUID
    kind: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class JobSpec:
    """One job as a provider sees it: no user id, no personal data beyond prompt and inputs."""

    generation_id: uuid.UUID
    modality: str
    provider_model: str
    prompt: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[ProviderInput, ...] = ()
    webhook_url: str | None = None


@dataclass(frozen=True)
class Output:
    """One result: inline bytes, or a URL on the provider's side to download."""

    content_type: str | None = None
    data: bytes | None = None
    url: str | None = None


@dataclass(frozen=True)
class JobStatus:
    """What the provider says about a job."""

    state: Literal["running", "succeeded", "failed"]
    outputs: tuple[Output, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Submission:
    """An accepted job; ``status`` is set when the provider answered inline."""

    job_id: str
    file_ids: tuple[str, ...] = ()
    status: JobStatus | None = None


class ProviderError(Exception):
    """Base of the errors an adapter raises.

    ``file_ids`` names files already uploaded to the provider when a submit failed halfway, so
    they are cleaned up too.
    """

    file_ids: tuple[str, ...] = ()


class ProviderRejected(ProviderError):
    """The provider refused the job (4xx); ``str(exc)`` is readable by the user."""


class ProviderBusy(ProviderError):
    """The provider asked us to slow down (429); nothing was created."""


class ProviderUnavailable(ProviderError):
    """5xx, timeout or connection trouble."""


class NotSent(ProviderUnavailable):
    """The connection failed before the request left: safe to send again."""


class Provider(Protocol):
    """One AI provider."""

    name: str

    async def submit(self, spec: JobSpec) -> Submission:
        """Start the job; never retried by the adapter except on connection errors."""

    async def status(self, job_id: str) -> JobStatus:
        """Read the job's state (also after a webhook: webhooks are only a signal)."""

    async def download(self, output: Output) -> bytes:
        """The bytes of one output."""

    async def cleanup(self, job_id: str | None, file_ids: tuple[str, ...]) -> str:
        """Remove provider-side data of one job; return the strategy used (the receipt)."""


def raise_for_provider(response: httpx.Response, provider: str) -> None:
    """Sort a provider answer into the error classes above (2xx passes)."""
    code = response.status_code
    if code < 400:
        return
    if code == 429:
        raise ProviderBusy(f"{provider} is rate limiting")
    if code >= 500:
        raise ProviderUnavailable(f"{provider} answered {code}")
    raise ProviderRejected(f"The provider refused the request ({code}).")


async def send(
    client: httpx.AsyncClient, method: str, url: str, provider: str, **kwargs: Any
) -> httpx.Response:
    """One request to a provider, its answer sorted into the error classes above."""
    try:
        response = await client.request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise NotSent(f"{provider}: {type(exc).__name__}") from None
    except httpx.HTTPError as exc:
        # Names the error class only: URLs may carry secrets (RunPod webhook tokens).
        raise ProviderUnavailable(f"{provider}: {type(exc).__name__}") from None
    raise_for_provider(response, provider)
    return response


def data_uri(content_type: str, data: bytes) -> str:
    """Inline file content as a ``data:`` URI (how several providers take inputs)."""
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


class Breakers:
    """One circuit breaker per provider (purgatory, in memory: per process): open after
    ``fail_max`` availability failures in a row, for ``reset_s``; then one trial call."""

    def __init__(self, fail_max: int, reset_s: float) -> None:
        # Only availability failures trip a breaker; a refusal or a 429 counts as an answer.
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=fail_max, default_ttl=reset_s, exclude=[ProviderRejected, ProviderBusy]
        )
        self._contexts: dict[str, Context] = {}

    def is_open(self, provider: str) -> bool:
        """True while ``provider`` is considered down and calls are refused."""
        context = self._contexts.get(provider)
        if context is None or context.state != "opened" or context.opened_at is None:
            return False
        return time.time() < context.opened_at + context.ttl

    def states(self) -> dict[str, str]:
        """Each known provider's breaker state (``closed``, ``open``, ``half_open``), for ops."""
        return {
            name: "open" if self.is_open(name) else "closed" if context.state == "closed" else "half_open"
            for name, context in self._contexts.items()
        }

    async def call(self, provider: str, func: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run ``func`` through ``provider``'s breaker; an open breaker is unavailability."""
        breaker = await self._factory.get_breaker(provider)
        self._contexts[provider] = breaker.context
        try:
            async with breaker:
                return await func(*args)
        except OpenedState:
            raise ProviderUnavailable(f"{provider} circuit open") from None
