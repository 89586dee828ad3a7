"""Credit holds in billing (``/internal/billing/holds``), idempotent by generation id."""

from __future__ import annotations

import uuid
from typing import Protocol

import httpx
from aiflux_kit.domain_errors import DomainError
from aiflux_kit.http import retrying

from ..domain import errors

# Billing's refusals of a hold, answered to the user as they are.
REFUSALS: dict[int, type[DomainError]] = {
    402: errors.InsufficientCredits,
    403: errors.SpendingFrozen,
    410: errors.AccountErased,
}


NOT_RESERVED = "Credits could not be reserved right now; please retry."


class PeerUnavailable(Exception):
    """Another AIFLUX service did not answer (down, 5xx): try again later."""


class Billing(Protocol):
    """What generation needs from billing."""

    async def reserve(self, user_id: uuid.UUID, generation_id: uuid.UUID, credits: int) -> None:
        """Hold ``credits``; raises a domain error the user can read when refused."""

    async def capture(self, generation_id: uuid.UUID) -> None:
        """Spend the held credits (idempotent)."""

    async def void(self, generation_id: uuid.UUID, reason: str) -> None:
        """Release the hold (idempotent; billing voids at most once)."""


class HttpBilling:
    """Billing's internal routes over a signed peer client."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def reserve(self, user_id: uuid.UUID, generation_id: uuid.UUID, credits: int) -> None:
        """``POST /internal/billing/holds``; 402/403/410 become the same problem for the user."""
        try:
            response = await retrying(
                lambda: self._post(
                    "/internal/billing/holds",
                    {"user_id": str(user_id), "generation_id": str(generation_id), "credits": credits},
                )
            )
        except (httpx.HTTPError, PeerUnavailable):
            raise errors.BillingUnavailable(NOT_RESERVED) from None
        refusal = REFUSALS.get(response.status_code)
        if refusal is not None:
            body = _json(response)
            raise refusal(str(body.get("detail", "Credits could not be reserved.")))
        if not response.is_success:
            raise errors.BillingUnavailable(NOT_RESERVED)

    async def capture(self, generation_id: uuid.UUID) -> None:
        """``POST /internal/billing/holds/{generation_id}/capture``."""
        await self._settle(f"/internal/billing/holds/{generation_id}/capture", {})

    async def void(self, generation_id: uuid.UUID, reason: str) -> None:
        """``POST /internal/billing/holds/{generation_id}/void``; a missing hold is fine."""
        await self._settle(f"/internal/billing/holds/{generation_id}/void", {"reason": reason})

    async def _settle(self, path: str, body: dict[str, object]) -> None:
        try:
            response = await retrying(lambda: self._post(path, body))
        except httpx.HTTPError as exc:
            raise PeerUnavailable(type(exc).__name__) from None
        if response.status_code != 404 and not response.is_success:
            raise PeerUnavailable(f"billing answered {response.status_code}")

    async def _post(self, path: str, body: dict[str, object]) -> httpx.Response:
        response = await self._client.post(path, json=body)
        if response.status_code >= 500:
            response.raise_for_status()
        return response


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
