"""Events every service publishes in answer to the privacy service (receipts and export parts).

Each is declared once per producing service, so routing keys stay ``<service>.<event>.v<N>``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from .base import Event

SERVICES = ("identity", "billing", "generation", "storage", "privacy")


class RetainedItem(BaseModel):
    """Data a service must keep after erasure, and why.

    ``retention_rule`` names the rule of privacy's retention catalog (§5, ``GET
    /v1/privacy/retention``) that keeps it; privacy then tells the user that rule's legal basis
    and period, so a receipt cannot contradict the published rules. ``legal_basis`` must equal
    the rule's; it stands alone only for an item no rule covers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str
    count: int
    legal_basis: str
    retained_until: date
    retention_rule: str | None = None


class ErasureCompletedBase(Event):
    """A service erased (or pseudonymised) what it holds of the user: the receipt.

    ``remaining`` is the service's own verification, counted in the erasure's transaction once
    it erased: what it still holds of the user (must be only declared retained items). Privacy
    then needs no separate verification round; a receipt without it is verified by an
    ``ErasureVerificationRequested`` round as before.
    """

    request_id: uuid.UUID
    user_id: uuid.UUID
    deleted: dict[str, int]
    retained: list[RetainedItem] = []
    remaining: dict[str, int] | None = None


class ErasureVerifiedBase(Event):
    """A service confirms what remains of the user (must be only declared retained items)."""

    request_id: uuid.UUID
    user_id: uuid.UUID
    remaining: dict[str, int]


class ExportPartReadyBase(Event):
    """A service wrote its part of an access export (JSON and files) to storage under ``prefix``."""

    request_id: uuid.UUID
    user_id: uuid.UUID
    prefix: str
    objects: list[str]


def _per_service(base: type[Event], name: str) -> dict[str, type[Event]]:
    out: dict[str, type[Event]] = {}
    for service in SERVICES:
        cls = type(
            name,
            (base,),
            {"producer": service, "__module__": __name__, "__annotations__": {"producer": ClassVar[str]}},
        )
        cls.__qualname__ = f"{name}[{service}]"
        out[service] = cls
    return out


ErasureCompleted = _per_service(ErasureCompletedBase, "ErasureCompleted")
ErasureVerified = _per_service(ErasureVerifiedBase, "ErasureVerified")
ExportPartReady = _per_service(ExportPartReadyBase, "ExportPartReady")
