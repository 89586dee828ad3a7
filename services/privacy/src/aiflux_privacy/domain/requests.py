"""Data-subject requests (§7): their types, states and the 30-day deadline with one extension."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from enum import StrEnum

RESPONSE_DAYS = 30
MAX_EXTENSION_MONTHS = 2


class RequestType(StrEnum):
    """The rights of §7 that are exercised through a request."""

    ACCESS = "access"
    PORTABILITY = "portability"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"


EXPORT_TYPES = frozenset({RequestType.ACCESS, RequestType.PORTABILITY})
DECIDED_BY_OPS = frozenset({RequestType.RECTIFICATION, RequestType.OBJECTION})


class Status(StrEnum):
    """Where a request stands."""

    RECEIVED = "received"  # waits for an operator (rectification, objection)
    IN_PROGRESS = "in_progress"  # services are working (erasure receipts, export parts)
    ASSEMBLING = "assembling"  # every export part is in; the archive is being built
    VERIFYING = "verifying"  # every erasure receipt is in; services confirm
    IN_EFFECT = "in_effect"  # a restriction holds
    COMPLETED = "completed"
    REJECTED = "rejected"
    LIFTED = "lifted"  # a restriction was lifted
    CANCELLED = "cancelled"  # an export overtaken by the user's erasure


OPEN = frozenset({Status.RECEIVED, Status.IN_PROGRESS, Status.ASSEMBLING, Status.VERIFYING})


class ExtensionRefused(ValueError):
    """The deadline cannot be extended as asked."""


def due_date(received_at: datetime) -> datetime:
    """Every request is answered within 30 days of receipt (§7)."""
    return received_at + timedelta(days=RESPONSE_DAYS)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, clamped to the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def extended_due_date(received_at: datetime, already_extended: bool, days: int) -> datetime:
    """The new due date after extending by ``days``: once only, by at most two months."""
    if already_extended:
        raise ExtensionRefused("This request's deadline was already extended once.")
    original = due_date(received_at)
    new_due = original + timedelta(days=days)
    if days < 1 or new_due > add_months(original, MAX_EXTENSION_MONTHS):
        raise ExtensionRefused("A deadline can be extended by 1 day up to two months.")
    return new_due


def days_left(due_at: datetime, now: datetime) -> int:
    """Whole days until ``due_at`` (negative when overdue)."""
    return (due_at - now).days if due_at >= now else -((now - due_at).days + 1)
