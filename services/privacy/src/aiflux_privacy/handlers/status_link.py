"""The status link of an erasure: the user follows it after their session has ended.

The link carries a random token; only its sha256 is stored (with the request), so the
database cannot produce links. Whoever holds the token sees status, per-service progress, due
date and outcome — counts and dates only, no personal data. An unknown request and a wrong
token get the same answer as a request privacy has not heard of yet ("pending"), so the route
tells nobody which request ids exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.repositories import find_request, set_request
from ..domain.records import PrivacyRequest, RequestStep
from ..domain.requests import RequestType
from .requests import load_steps


def token_hash(token: str) -> str:
    """How a status token is stored and carried in events: sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_status_token(session: AsyncSession, request_id: uuid.UUID) -> str:
    """A new token for the request's status link (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    await set_request(session, request_id, status_token_sha256=token_hash(token))
    return token


def status_url(public_url: str, request_id: uuid.UUID, token: str) -> str:
    """The absolute status link of a request."""
    return f"{public_url.rstrip('/')}/v1/privacy/requests/{request_id}/status?token={token}"


def pending(request_id: uuid.UUID) -> dict[str, Any]:
    """The answer before privacy has heard of the request (and for any unknown id or token)."""
    return {
        "request_id": str(request_id),
        "type": "erasure",
        "status": "pending",
        "received_at": None,
        "due_at": None,
        "closed_at": None,
        "outcome": None,
        "progress": {},
        "certificate": None,
    }


async def public_status(session: AsyncSession, request_id: uuid.UUID, token: str) -> dict[str, Any]:
    """What the link shows: status, per-service progress, due date and outcome."""
    row = await find_request(session, request_id)
    presented = token_hash(token)
    if (
        row is None
        or row.status_token_sha256 is None
        or not hmac.compare_digest(row.status_token_sha256, presented)
    ):
        return pending(request_id)
    steps = await load_steps(session, request_id)
    return {
        **pending(request_id),
        "type": row.type,
        "status": row.status,
        "received_at": row.received_at,
        "due_at": row.due_at,
        "closed_at": row.closed_at,
        "outcome": row.outcome,
        "progress": {s.service: _progress(s) for s in steps},
        "certificate": _summary(row.certificate),
    }


def _progress(step: RequestStep) -> dict[str, Any]:
    return {
        "erased": step.receipt_at is not None,
        "erased_at": step.receipt_at,
        "verified": step.verified_at is not None and bool(step.clean),
        "verified_at": step.verified_at,
    }


def _summary(certificate: dict[str, Any] | None) -> dict[str, Any] | None:
    """The certificate without the subject hash: counts, retained items, dates."""
    if not certificate:
        return None
    return {
        "issued_at": certificate.get("issued_at"),
        "deleted": {
            service: part.get("deleted", {}) for service, part in certificate.get("services", {}).items()
        },
        "retained": certificate.get("retained", []),
        "identity_purged_at": certificate.get("identity_purged_at"),
    }


async def link_for_erasure(session: AsyncSession, row: PrivacyRequest, public_url: str) -> str | None:
    """The status link of a newly filed erasure (None for other request types)."""
    if row.type != RequestType.ERASURE:
        return None
    return status_url(public_url, row.id, await issue_status_token(session, row.id))
