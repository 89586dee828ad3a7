"""The erasure process manager's rules: receipts from every service, verification, certificate.

The certificate proves the erasure without identifying the person: the subject appears only as
a peppered sha256 of the user id (the pepper is a secret, so the hash cannot be reversed by
hashing candidate ids), with per-service counts and what had to be retained and why.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiflux_contracts.receipts import SERVICES

from .catalog import explain_retained
from .records import RequestStep
from .requests import Status

PARTICIPANTS: tuple[str, ...] = SERVICES


def subject_hash(user_id: uuid.UUID, pepper: str) -> str:
    """The pseudonymous subject of a certificate: HMAC-SHA256(pepper, user id)."""
    return hmac.new(pepper.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()


def missing(answered: set[str]) -> list[str]:
    """Services that have not answered yet."""
    return [s for s in PARTICIPANTS if s not in answered]


def residue(receipt: dict[str, Any], remaining: dict[str, int]) -> dict[str, int]:
    """What a service still holds beyond the items it declared as retained in its receipt."""
    declared = {item["category"]: int(item["count"]) for item in receipt.get("retained", [])}
    return {category: count for category, count in remaining.items() if count > declared.get(category, 0)}


def certificate(
    request_id: uuid.UUID, subject: str, steps: dict[str, dict[str, Any]], issued_at: datetime
) -> dict[str, Any]:
    """The certificate of a completed erasure (no personal data: ids of services and counts)."""
    return {
        "request_id": str(request_id),
        "subject_sha256": subject,
        "issued_at": issued_at.isoformat(),
        "services": {
            service: {
                "deleted": step["receipt"].get("deleted", {}),
                "retained": step["receipt"].get("retained", []),
                "remaining": step["verification"].get("remaining", {}),
                "receipt_at": step["receipt_at"],
                "verified_at": step["verified_at"],
            }
            for service, step in sorted(steps.items())
        },
        "retained": [
            explain_retained(item, service)
            for service, step in sorted(steps.items())
            for item in step["receipt"].get("retained", [])
        ],
    }


class Move(StrEnum):
    """What the erasure process manager does after a service answered."""

    WAIT = "wait"  # some service has not answered the current phase yet
    VERIFY = "verify"  # every receipt is in, one without its own count of what remains: ask all
    REDRIVE = "redrive"  # a verification found residue: those services erase again
    CERTIFY = "certify"  # every service verified a clean state: issue the certificate


def next_move(status: str, steps: Mapping[str, RequestStep], redrives: int, max_redrives: int) -> Move:
    """The next move of an erasure in ``status`` given each service's step. Receipts that
    carry their service's verification certify at once when clean (no second round); residue
    re-drives at once, up to ``max_redrives`` times; after that the erasure waits for the stall
    sweep."""
    if status == Status.IN_PROGRESS:
        erased = {s for s, step in steps.items() if step.receipt_at is not None}
        if missing(erased):
            return Move.WAIT
        if not all(verified_by_receipt(steps[s]) for s in PARTICIPANTS):
            return Move.VERIFY  # some receipt came without its own verification: a round
        unclean = [s for s in PARTICIPANTS if not steps[s].clean]
        if unclean:
            return Move.REDRIVE if redrives < max_redrives else Move.WAIT
        return Move.CERTIFY
    if status != Status.VERIFYING:
        return Move.WAIT
    verified = {s for s, step in steps.items() if step.verified_at is not None}
    unclean = [s for s in verified if not steps[s].clean]
    if unclean and redrives < max_redrives:
        return Move.REDRIVE
    if missing(verified) or unclean:
        return Move.WAIT
    return Move.CERTIFY


def verified_by_receipt(step: RequestStep) -> bool:
    """True when the step's verification came with (or after) its latest receipt: the service
    counted what remains in the erasure's own transaction (``ErasureCompleted.remaining``)."""
    return (
        step.receipt_at is not None
        and step.verified_at is not None
        and step.clean is not None
        and step.verified_at >= step.receipt_at
    )


def merged_counts(earlier: Mapping[str, int], latest: Mapping[str, int]) -> dict[str, int]:
    """A receipt merged with an earlier one of a re-drive. Services answer a re-drive either by
    repeating their first receipt or by reporting only what they erased this time; keeping the
    larger count per category is right for both."""
    merged = dict(earlier)
    for category, count in latest.items():
        merged[category] = max(merged.get(category, 0), count)
    return merged
