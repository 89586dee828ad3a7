"""Reads of the privacy tables, answered as the typed records of ``domain.records`` (never as
database rows, so handlers see exactly the fields a record has)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.records import MinorReport, PolicyVersion, PrivacyRequest, RequestStep
from .orm import minor_report, policy_version, privacy_request, request_step


def as_request(row: Row[Any]) -> PrivacyRequest:
    """A ``privacy_request`` row as its record."""
    return PrivacyRequest(**row._mapping)


def as_policy(row: Row[Any]) -> PolicyVersion:
    """A ``policy_version`` row as its record."""
    return PolicyVersion(**row._mapping)


async def find_request(session: AsyncSession, request_id: uuid.UUID, *,
                       user_id: uuid.UUID | None = None, lock: bool = False
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
    rows = (await session.execute(select(request_step).where(
        request_step.c.request_id == request_id).order_by(request_step.c.service))).all()
    return [RequestStep(**row._mapping) for row in rows]


def _in_force_first(now: datetime) -> Select[Any]:
    return select(policy_version).where(policy_version.c.effective_at <= now).order_by(
        policy_version.c.effective_at.desc(), policy_version.c.published_at.desc())


async def policy_in_force(session: AsyncSession, now: datetime) -> PolicyVersion | None:
    """The newest version whose effective date has come."""
    row = (await session.execute(_in_force_first(now).limit(1))).first()
    return None if row is None else as_policy(row)


async def policy_versions(session: AsyncSession) -> list[PolicyVersion]:
    """Every published version, newest first."""
    rows = (await session.execute(select(policy_version).order_by(
        policy_version.c.effective_at.desc(), policy_version.c.published_at.desc()))).all()
    return [as_policy(row) for row in rows]


async def open_minor_reports(session: AsyncSession) -> list[MinorReport]:
    """Reports waiting for review, oldest first."""
    rows = (await session.execute(select(minor_report).where(
        minor_report.c.status == "open").order_by(minor_report.c.created_at))).all()
    return [MinorReport(**row._mapping) for row in rows]


async def find_minor_report(session: AsyncSession, report_id: uuid.UUID) -> MinorReport | None:
    """One report, row-locked (it is about to be decided)."""
    row = (await session.execute(select(minor_report).where(
        minor_report.c.id == report_id).with_for_update())).first()
    return None if row is None else MinorReport(**row._mapping)
