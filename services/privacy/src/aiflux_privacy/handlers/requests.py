"""Filing, answering and extending data-subject requests (§7)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiflux_contracts import (
    ErasureRequested,
    ExportRequested,
    ProcessingRestricted,
    UserNotificationRequested,
)
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import repositories as store
from ..adapters.peers import StorageClient
from ..adapters.repositories import find_request, steps_of
from ..domain.errors import (
    DetailsRequired,
    ExportExpired,
    ExportNotReady,
    ExtensionAlreadyUsed,
    ExtensionTooLong,
    NotAnExport,
    NotDecidable,
    NotFound,
    NotInEffect,
    RequestAlreadyOpen,
    RequestClosed,
)
from ..domain.records import PrivacyRequest, RequestStep
from ..domain.requests import (
    DECIDED_BY_OPS,
    EXPORT_TYPES,
    OPEN,
    ExtensionRefused,
    RequestType,
    Status,
    due_date,
    extended_due_date,
)


async def file_request(
    session: AsyncSession, user_id: uuid.UUID, kind: RequestType, details: str | None
) -> PrivacyRequest:
    """Record a request and start its outcome at once (export, erasure, restriction)."""
    if kind in DECIDED_BY_OPS and not (details and details.strip()):
        raise DetailsRequired(f"A {kind} request must say what it is about in 'details'.")
    await _refuse_duplicate(session, user_id, kind)
    now = datetime.now(UTC)
    request_id = uuid.uuid4()
    status = _initial_status(kind)
    await store.add_request(session, request_id, user_id, kind, status, now, due_date(now), details=details)
    if kind in EXPORT_TYPES:
        await add_event(session, ExportRequested(request_id=request_id, user_id=user_id))
    elif kind is RequestType.ERASURE:
        await add_event(session, ErasureRequested(request_id=request_id, user_id=user_id))
    elif kind is RequestType.RESTRICTION:
        await store.restrict(session, user_id, request_id)
        await add_event(session, ProcessingRestricted(user_id=user_id, restricted=True))
    return await load_request(session, request_id)


def _initial_status(kind: RequestType) -> Status:
    if kind is RequestType.RESTRICTION:
        return Status.IN_EFFECT
    return Status.RECEIVED if kind in DECIDED_BY_OPS else Status.IN_PROGRESS


async def _refuse_duplicate(session: AsyncSession, user_id: uuid.UUID, kind: RequestType) -> None:
    standing = [*OPEN, Status.IN_EFFECT]
    existing = await store.standing_request_id(session, user_id, kind, standing)
    if existing is not None:
        raise RequestAlreadyOpen(f"You already have an open {kind} request.", request_id=str(existing))


async def load_request(
    session: AsyncSession, request_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False
) -> PrivacyRequest:
    """A request (of ``user_id`` when given); :class:`NotFound` otherwise."""
    found = await find_request(session, request_id, user_id=user_id, lock=lock)
    if found is None:
        raise NotFound("request")
    return found


async def load_steps(session: AsyncSession, request_id: uuid.UUID) -> list[RequestStep]:
    """The per-service steps of a request."""
    return await steps_of(session, request_id)


async def archive_url(
    session: AsyncSession, storage: StorageClient, request_id: uuid.UUID, user_id: uuid.UUID
) -> str:
    """A short-lived signed URL of the user's finished, unexpired export archive."""
    row = await load_request(session, request_id, user_id=user_id)
    if row.type not in EXPORT_TYPES:
        raise NotAnExport("Only access and portability requests have an archive.")
    if row.status != Status.COMPLETED or row.archive_expires_at is None:
        raise ExportNotReady("The archive is still being prepared; you will get a mail.")
    if row.archive_expires_at < datetime.now(UTC):
        raise ExportExpired("Archives are kept for 7 days; please file a new request.")
    signed = await storage.archive_url(request_id)
    return str(signed["url"])


async def list_requests(session: AsyncSession, user_id: uuid.UUID) -> list[PrivacyRequest]:
    """The user's requests, newest first."""
    return await store.requests_of_user(session, user_id, newest_first=True)


async def open_requests(session: AsyncSession, limit: int, offset: int) -> list[PrivacyRequest]:
    """Requests operators must look after: open ones, the most urgent (overdue) first, and
    restrictions in effect (they hold until an operator lifts them)."""
    standing = [*OPEN, Status.IN_EFFECT]
    return await store.requests_in(session, standing, limit, offset)


async def notify(
    session: AsyncSession, user_id: uuid.UUID | None, request: PrivacyRequest, event: str, **params: Any
) -> None:
    """Ask identity to mail the user about their request."""
    if user_id is None:
        return
    await add_event(
        session,
        UserNotificationRequested(
            user_id=user_id,
            template="request_update",
            params={
                "request_id": str(request.id),
                "request_type": request.type,
                "event": event,
                "status": event,
                **params,
            },
        ),
    )


async def extend_deadline(
    session: AsyncSession, request_id: uuid.UUID, days: int, reason: str
) -> PrivacyRequest:
    """Extend an open request's deadline once (≤ two months); the user is told the reason."""
    row = await load_request(session, request_id, lock=True)
    if row.status not in OPEN:
        raise RequestClosed()
    try:
        new_due = extended_due_date(row.received_at, row.extended_at is not None, days)
    except ExtensionRefused as exc:
        refusal = ExtensionAlreadyUsed if row.extended_at else ExtensionTooLong
        raise refusal(str(exc)) from None
    await store.set_request(
        session, request_id, due_at=new_due, extended_at=datetime.now(UTC), extension_reason=reason
    )
    await notify(session, row.user_id, row, "deadline_extended", due_at=new_due.isoformat(), reason=reason)
    return await load_request(session, request_id)


async def decide(session: AsyncSession, request_id: uuid.UUID, granted: bool, answer: str) -> PrivacyRequest:
    """An operator's decision on a rectification or objection, answered to the user."""
    row = await load_request(session, request_id, lock=True)
    if row.type not in DECIDED_BY_OPS:
        raise NotDecidable(f"A {row.type} request is carried out by the services, not decided.")
    if row.status != Status.RECEIVED:
        raise RequestClosed()
    await _close(
        session,
        request_id,
        Status.COMPLETED if granted else Status.REJECTED,
        "granted" if granted else "rejected",
        answer,
    )
    await notify(
        session, row.user_id, row, "decided", outcome="granted" if granted else "rejected", answer=answer
    )
    return await load_request(session, request_id)


async def lift_restriction(session: AsyncSession, request_id: uuid.UUID, reason: str) -> PrivacyRequest:
    """Lift a restriction: generation and marketing resume; the user is told why."""
    row = await load_request(session, request_id, lock=True)
    if row.type != RequestType.RESTRICTION or row.status != Status.IN_EFFECT:
        raise NotInEffect("Only a restriction in effect can be lifted.")
    await store.lift_restrictions_of(session, request_id)
    await _close(session, request_id, Status.LIFTED, "lifted", reason)
    await add_event(session, ProcessingRestricted(user_id=row.user_id, restricted=False))
    await notify(session, row.user_id, row, "restriction_lifted", reason=reason)
    return await load_request(session, request_id)


async def _close(
    session: AsyncSession, request_id: uuid.UUID, status: Status, outcome: str, answer: str | None
) -> None:
    await store.set_request(
        session, request_id, status=status, outcome=outcome, answer=answer, closed_at=datetime.now(UTC)
    )


async def is_restricted(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """True while a restriction of processing holds for the user."""
    return await store.is_restricted(session, user_id)
