"""Reads of the privacy tables, answered as the typed records of ``domain.records`` (never as
database rows, so handlers see exactly the fields a record has)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aiflux_contracts import Event
from aiflux_kit.outbox import add_event
from sqlalchemy import ColumnElement, Row, Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.records import MinorReport, PolicyVersion, PrivacyRequest, RequestStep
from .orm import minor_report, policy_version, privacy_request, request_step


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
        await self._session.execute(
            update(privacy_request).where(privacy_request.c.id == request_id).values(**values)
        )

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
