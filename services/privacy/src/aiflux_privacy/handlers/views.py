"""How requests look to their owner and to operators (no other personal data than the ids)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..domain.records import PrivacyRequest, RequestStep
from ..domain.requests import OPEN, days_left


def request_view(row: PrivacyRequest, steps: list[RequestStep] | None = None) -> dict[str, Any]:
    """A request as its owner sees it: status, due date, per-service progress, outcome."""
    view: dict[str, Any] = {
        "id": str(row.id),
        "type": row.type,
        "status": row.status,
        "received_at": row.received_at,
        "due_at": row.due_at,
        "extended": row.extended_at is not None,
        "extension_reason": row.extension_reason,
        "outcome": row.outcome,
        "answer": row.answer,
        "closed_at": row.closed_at,
        "details": row.details,
    }
    if row.type in ("access", "portability"):
        view["download_available"] = row.status == "completed" and row.archive_expires_at is not None
        view["download_expires_at"] = row.archive_expires_at
    if steps is not None:
        view["progress"] = {s.service: _step_view(row.type, s) for s in steps}
    return view


def _step_view(request_type: str, step: RequestStep) -> dict[str, Any]:
    if request_type == "erasure":
        return {
            "receipt": step.receipt,
            "receipt_at": step.receipt_at,
            "verification": step.verification,
            "verified_at": step.verified_at,
            "clean": step.clean,
        }
    return {"part": step.receipt, "ready_at": step.receipt_at}


def ops_view(row: PrivacyRequest, now: datetime | None = None) -> dict[str, Any]:
    """A request as operators see it, with days left and whether it is overdue."""
    now = now or datetime.now(UTC)
    view = request_view(row)
    view["user_id"] = None if row.user_id is None else str(row.user_id)
    is_open = row.status in OPEN
    view["days_left"] = days_left(row.due_at, now) if is_open else None
    view["overdue"] = is_open and row.due_at < now
    view["redrives"] = row.redrives
    return view


def ops_detail(row: PrivacyRequest, steps: list[RequestStep], now: datetime | None = None) -> dict[str, Any]:
    """One request for operators: its view, per-service receipts and, once erased, its
    certificate."""
    return {**ops_view(row, now), **request_view(row, steps), "certificate": row.certificate}
