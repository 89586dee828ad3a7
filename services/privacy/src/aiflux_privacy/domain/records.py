"""What the privacy repositories hand to handlers: frozen records, one per stored thing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PrivacyRequest:
    """A data-subject request (``user_id`` is None once its erasure is certified)."""

    id: uuid.UUID
    user_id: uuid.UUID | None
    subject_hash: str | None
    type: str
    status: str
    source: str
    details: str | None
    received_at: datetime
    due_at: datetime
    extended_at: datetime | None
    extension_reason: str | None
    outcome: str | None
    answer: str | None
    closed_at: datetime | None
    progress_at: datetime
    redrives: int
    certificate: dict[str, Any] | None
    archive_expires_at: datetime | None
    status_token_sha256: str | None


@dataclass(frozen=True)
class RequestStep:
    """One service's part of a request: an erasure receipt and verification, or an export
    part (kept in ``receipt``)."""

    request_id: uuid.UUID
    service: str
    receipt: dict[str, Any] | None
    receipt_at: datetime | None
    verification: dict[str, Any] | None
    verified_at: datetime | None
    clean: bool | None


@dataclass(frozen=True)
class PolicyVersion:
    """A published privacy-policy version (versions never change)."""

    version: str
    text: str
    substantial: bool
    effective_at: datetime
    published_at: datetime
    published_by: uuid.UUID | None


@dataclass(frozen=True)
class MinorReport:
    """A report that an account belongs to someone under 16."""

    id: uuid.UUID
    account: str
    details: str | None
    status: str
    user_id: uuid.UUID | None
    decision_reason: str | None
    decided_at: datetime | None
    erasure_request_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True)
class ConsentRecord:
    """One entry of the append-only consent ledger."""

    id: int
    subject_id: uuid.UUID
    subject_kind: str
    purpose: str
    granted: bool
    policy_version: str | None
    source: str
    recorded_at: datetime
