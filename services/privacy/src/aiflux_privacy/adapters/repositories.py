"""Reads and writes of the privacy tables; reads are answered as the typed records of
``domain.records`` (never as database rows, so handlers see exactly the fields a record has)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from aiflux_contracts import Event
from aiflux_kit.outbox import add_event
from sqlalchemy import ColumnElement, Row, Select, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.records import MinorReport, PolicyVersion, PrivacyRequest, RequestStep
from ..domain.requests import RequestType, Status
from .orm import marketing_campaign, minor_report, policy_version, privacy_request, request_step, restriction


def as_request(row: Row[Any]) -> PrivacyRequest:
    """A ``privacy_request`` row as its record."""
    return PrivacyRequest(**row._mapping)


def as_policy(row: Row[Any]) -> PolicyVersion:
    """A ``policy_version`` row as its record."""
    return PolicyVersion(**row._mapping)


async def find_request(
    session: AsyncSession, request_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False
) -> PrivacyRequest | None:
    """One request (only of ``user_id`` when given), row-locked when ``lock``."""
    query = select(privacy_request).where(privacy_request.c.id == request_id)
    if user_id is not None:
        query = query.where(privacy_request.c.user_id == user_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return None if row is None else as_request(row)


async def requests_where(session: AsyncSession, query: Select[Any]) -> list[PrivacyRequest]:
    """The requests a ``select(privacy_request)`` finds."""
    return [as_request(row) for row in (await session.execute(query)).all()]


async def steps_of(session: AsyncSession, request_id: uuid.UUID) -> list[RequestStep]:
    """The per-service steps of a request, by service name."""
    rows = (
        await session.execute(
            select(request_step)
            .where(request_step.c.request_id == request_id)
            .order_by(request_step.c.service)
        )
    ).all()
    return [RequestStep(**row._mapping) for row in rows]


def _in_force_first(now: datetime) -> Select[Any]:
    return (
        select(policy_version)
        .where(policy_version.c.effective_at <= now)
        .order_by(policy_version.c.effective_at.desc(), policy_version.c.published_at.desc())
    )


async def policy_in_force(session: AsyncSession, now: datetime) -> PolicyVersion | None:
    """The newest version whose effective date has come."""
    row = (await session.execute(_in_force_first(now).limit(1))).first()
    return None if row is None else as_policy(row)


async def policy_versions(session: AsyncSession) -> list[PolicyVersion]:
    """Every published version, newest first."""
    rows = (
        await session.execute(
            select(policy_version).order_by(
                policy_version.c.effective_at.desc(), policy_version.c.published_at.desc()
            )
        )
    ).all()
    return [as_policy(row) for row in rows]


async def open_minor_reports(session: AsyncSession) -> list[MinorReport]:
    """Reports waiting for review, oldest first."""
    rows = (
        await session.execute(
            select(minor_report).where(minor_report.c.status == "open").order_by(minor_report.c.created_at)
        )
    ).all()
    return [MinorReport(**row._mapping) for row in rows]


async def find_minor_report(session: AsyncSession, report_id: uuid.UUID) -> MinorReport | None:
    """One report, row-locked (it is about to be decided)."""
    row = (
        await session.execute(select(minor_report).where(minor_report.c.id == report_id).with_for_update())
    ).first()
    return None if row is None else MinorReport(**row._mapping)


async def add_request(
    session: AsyncSession,
    request_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: str,
    status: str,
    received_at: datetime,
    due_at: datetime,
    *,
    details: str | None = None,
    source: str = "request",
) -> None:
    """Store a new request (its progress clock starts when it is received)."""
    await session.execute(
        insert(privacy_request).values(
            id=request_id,
            user_id=user_id,
            type=kind,
            status=status,
            source=source,
            details=details,
            received_at=received_at,
            due_at=due_at,
            progress_at=received_at,
        )
    )


async def set_request(session: AsyncSession, request_id: uuid.UUID, **values: Any) -> None:
    """Change columns of one request."""
    await session.execute(update(privacy_request).where(privacy_request.c.id == request_id).values(**values))


async def standing_request_id(
    session: AsyncSession, user_id: uuid.UUID, kind: str, statuses: Collection[str]
) -> uuid.UUID | None:
    """The id of a request of the user of that type in one of ``statuses``, if any."""
    row = (
        await session.execute(
            select(privacy_request.c.id).where(
                privacy_request.c.user_id == user_id,
                privacy_request.c.type == kind,
                privacy_request.c.status.in_(list(statuses)),
            )
        )
    ).first()
    return None if row is None else uuid.UUID(str(row.id))


async def requests_of_user(
    session: AsyncSession, user_id: uuid.UUID, *, newest_first: bool = False
) -> list[PrivacyRequest]:
    """The user's requests by reception date."""
    received = privacy_request.c.received_at
    return await requests_where(
        session,
        select(privacy_request)
        .where(privacy_request.c.user_id == user_id)
        .order_by(received.desc() if newest_first else received),
    )


async def requests_in(
    session: AsyncSession, statuses: Collection[str], limit: int, offset: int
) -> list[PrivacyRequest]:
    """A page of the requests in one of ``statuses``, the earliest due first."""
    return await requests_where(
        session,
        select(privacy_request)
        .where(privacy_request.c.status.in_(list(statuses)))
        .order_by(privacy_request.c.due_at, privacy_request.c.id)
        .limit(limit)
        .offset(offset),
    )


async def count_due(session: AsyncSession, statuses: Collection[str], start: datetime, end: datetime) -> int:
    """How many requests in one of ``statuses`` are due from ``start`` until before ``end``."""
    query = select(func.count()).where(
        privacy_request.c.status.in_(list(statuses)),
        privacy_request.c.due_at >= start,
        privacy_request.c.due_at < end,
    )
    return int((await session.execute(query)).scalar_one())


async def count_overdue(session: AsyncSession, statuses: Collection[str], now: datetime) -> int:
    """How many requests in one of ``statuses`` were due before ``now``."""
    query = select(func.count()).where(
        privacy_request.c.status.in_(list(statuses)), privacy_request.c.due_at < now
    )
    return int((await session.execute(query)).scalar_one())


async def restrict(session: AsyncSession, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
    """Hold the user's processing under the restriction request."""
    await session.execute(insert(restriction).values(user_id=user_id, request_id=request_id))


async def lift_restrictions_of(session: AsyncSession, request_id: uuid.UUID) -> None:
    """Release what the restriction request held."""
    await session.execute(delete(restriction).where(restriction.c.request_id == request_id))


async def is_restricted(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """True while a restriction of processing holds for the user."""
    row = (
        await session.execute(select(restriction.c.user_id).where(restriction.c.user_id == user_id))
    ).first()
    return row is not None


async def add_policy(
    session: AsyncSession,
    version: str,
    text: str,
    substantial: bool,
    effective_at: datetime,
    published_by: uuid.UUID,
) -> PolicyVersion | None:
    """Publish a version; None when that version exists already (versions never change)."""
    inserted = (
        await session.execute(
            pg_insert(policy_version)
            .values(
                version=version,
                text=text,
                substantial=substantial,
                effective_at=effective_at,
                published_by=published_by,
            )
            .on_conflict_do_nothing()
            .returning(policy_version)
        )
    ).first()
    return None if inserted is None else as_policy(inserted)


async def add_campaign(
    session: AsyncSession, campaign_id: uuid.UUID, subject: str, recipients: int, sent_by: uuid.UUID
) -> None:
    """Keep the record of a marketing campaign sent."""
    await session.execute(
        insert(marketing_campaign).values(
            id=campaign_id, subject=subject, recipients=recipients, sent_by=sent_by
        )
    )


async def add_minor_report(
    session: AsyncSession, report_id: uuid.UUID, account: str, details: str | None
) -> None:
    """Store a report (it starts open)."""
    await session.execute(insert(minor_report).values(id=report_id, account=account, details=details))


async def set_minor_report(session: AsyncSession, report_id: uuid.UUID, **values: Any) -> None:
    """Change columns of one report (its decision)."""
    await session.execute(update(minor_report).where(minor_report.c.id == report_id).values(**values))


async def track_erasure(
    session: AsyncSession,
    request_id: uuid.UUID,
    user_id: uuid.UUID,
    source: str,
    received_at: datetime,
    due_at: datetime,
    status_token_sha256: str | None,
) -> None:
    """Store an erasure request in progress, unless it is tracked already (a re-delivery)."""
    await session.execute(
        pg_insert(privacy_request)
        .values(
            id=request_id,
            user_id=user_id,
            type=RequestType.ERASURE,
            status=Status.IN_PROGRESS,
            source=source,
            received_at=received_at,
            due_at=due_at,
            progress_at=received_at,
            status_token_sha256=status_token_sha256,
        )
        .on_conflict_do_nothing()
    )


async def close_open_of_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    kinds: Collection[str],
    statuses: Collection[str],
    **closing: Any,
) -> int:
    """Set ``closing`` on the user's requests of ``kinds`` in ``statuses``; how many."""
    result: Any = await session.execute(
        update(privacy_request)
        .where(
            privacy_request.c.user_id == user_id,
            privacy_request.c.type.in_(list(kinds)),
            privacy_request.c.status.in_(list(statuses)),
        )
        .values(**closing)
    )
    return int(result.rowcount or 0)


async def stalled_requests(
    session: AsyncSession, statuses: Collection[str], before: datetime, max_redrives: int
) -> list[PrivacyRequest]:
    """Requests of a user in ``statuses`` with no progress since ``before`` and re-drives
    left, row-locked (those another sweep holds are skipped)."""
    return await requests_where(
        session,
        select(privacy_request)
        .where(
            privacy_request.c.status.in_(list(statuses)),
            privacy_request.c.user_id.is_not(None),
            privacy_request.c.progress_at < before,
            privacy_request.c.redrives < max_redrives,
        )
        .with_for_update(skip_locked=True),
    )


async def requests_of_subject(session: AsyncSession, subject_hash: str) -> list[PrivacyRequest]:
    """The certified erasures of the (pseudonymised) subject."""
    return await requests_where(
        session, select(privacy_request).where(privacy_request.c.subject_hash == subject_hash)
    )


async def step_receipt(session: AsyncSession, request_id: uuid.UUID, service: str) -> dict[str, Any] | None:
    """What the service's step of the request holds as its receipt (or export part)."""
    receipt: dict[str, Any] | None = (
        await session.execute(
            select(request_step.c.receipt).where(
                request_step.c.request_id == request_id, request_step.c.service == service
            )
        )
    ).scalar_one_or_none()
    return receipt


async def save_receipt(
    session: AsyncSession, request_id: uuid.UUID, service: str, receipt: dict[str, Any], at: datetime
) -> None:
    """Store (or replace) the service's receipt for the request."""
    await session.execute(
        pg_insert(request_step)
        .values(request_id=request_id, service=service, receipt=receipt, receipt_at=at)
        .on_conflict_do_update(
            index_elements=["request_id", "service"], set_={"receipt": receipt, "receipt_at": at}
        )
    )


async def save_verification(
    session: AsyncSession,
    request_id: uuid.UUID,
    service: str,
    verification: dict[str, Any],
    at: datetime,
    clean: bool,
) -> None:
    """Store (or replace) the service's verification for the request."""
    await session.execute(
        pg_insert(request_step)
        .values(
            request_id=request_id, service=service, verification=verification, verified_at=at, clean=clean
        )
        .on_conflict_do_update(
            index_elements=["request_id", "service"],
            set_={"verification": verification, "verified_at": at, "clean": clean},
        )
    )


async def answered_services(session: AsyncSession, request_id: uuid.UUID) -> set[str]:
    """The services whose step of the request has its receipt (or export part)."""
    query = select(request_step.c.service).where(
        request_step.c.request_id == request_id, request_step.c.receipt_at.is_not(None)
    )
    return set((await session.execute(query)).scalars())


async def set_request_in(session: AsyncSession, request_id: uuid.UUID, current: str, **values: Any) -> bool:
    """Change columns of the request only while its status is ``current``; whether it was."""
    changed = (
        await session.execute(
            update(privacy_request)
            .where(privacy_request.c.id == request_id, privacy_request.c.status == current)
            .values(**values)
            .returning(privacy_request.c.id)
        )
    ).first()
    return changed is not None


async def request_ids_in(session: AsyncSession, status: str, progress_by: datetime) -> list[uuid.UUID]:
    """Ids of the requests in ``status`` whose progress is due by ``progress_by``."""
    query = select(privacy_request.c.id).where(
        privacy_request.c.status == status, privacy_request.c.progress_at <= progress_by
    )
    return list((await session.execute(query)).scalars())


class ErasureLedger:
    """What the erasure process manager reads and writes, in the caller's transaction (its
    events go to the outbox of the same transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def load(self, request_id: uuid.UUID) -> PrivacyRequest | None:
        """The request, row-locked: receipts and verifications of one erasure queue up."""
        return await find_request(self._session, request_id, lock=True)

    async def steps(self, request_id: uuid.UUID) -> list[RequestStep]:
        """Each service's step of the request."""
        return await steps_of(self._session, request_id)

    async def set(self, request_id: uuid.UUID, **values: Any) -> None:
        """Change columns of the request."""
        await set_request(self._session, request_id, **values)

    async def clear_verifications(self, request_id: uuid.UUID) -> None:
        """Forget every service's verification (a new round starts)."""
        await self._session.execute(
            update(request_step)
            .where(request_step.c.request_id == request_id)
            .values(verification=None, verified_at=None, clean=None)
        )

    async def reopen_steps(self, request_id: uuid.UUID, *, only_unclean: bool) -> None:
        """Those that did not confirm a clean state must erase (and answer) again; with
        ``only_unclean``, those still verifying are left to answer."""
        not_clean: ColumnElement[bool] = request_step.c.clean.is_(False)
        if not only_unclean:
            not_clean = or_(not_clean, request_step.c.clean.is_(None))
        await self._session.execute(
            update(request_step)
            .where(request_step.c.request_id == request_id, not_clean)
            .values(receipt_at=None)
        )

    async def publish(self, event: Event) -> None:
        """Publish with the transaction (the outbox)."""
        await add_event(self._session, event)
