"""Keeping an erasure true while late requests and late messages still arrive.

A user's erasure races with requests authenticated a moment earlier (an old cookie still in a
session cache, an upload already streaming) and with events already on the bus. Every service
therefore keeps a *guard* for an erased user, written first thing by its erasure:

- :func:`guard_user` takes an exclusive transaction lock on the user and records the guard;
- every write made for a user goes through :func:`refuse_if_erased` (API routes) or
  :func:`is_erased` (consumers), which take the same lock *shared* and then look for the guard.

So a write that passed the check before the guard existed holds its shared lock until it
commits: the erasure waits for it and deletes what it wrote. A write that comes after sees the
guard and is refused. Erasure steps stay re-runnable, and verification counts what is left, for
everything the lock cannot cover (objects written to a store before the row that names them).

The guard names the user only by the sha256 of the id and expires after :data:`GUARD_KEEP_DAYS`
(identity purges the account row after 30 days; no session of the user can outlive that).

Published outbox rows name users by id: the erasure forgets the user's (:func:`forget_user_messages`)
and verification counts what still names the user (:func:`messaging_residue`).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta

from aiflux_contracts.receipts import RetainedItem
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import Problem

GUARD_KEEP_DAYS = 30
GUARD_CATEGORY = "erasure_guard"
MESSAGES_CATEGORY = "erasure_messages"
GUARD_BASIS = "Art. 6(1)(c)"  # Art. 17: the erasure must stay effective
MESSAGES_BASIS = "Art. 6(1)(b)"  # as every event message (delivery of the service)


def add_erased_user_table(metadata: MetaData) -> Table:
    """Declare ``erased_user`` (the guard) on a service's metadata."""
    return Table(
        "erased_user",
        metadata,
        Column("subject_sha256", String(64), primary_key=True),
        Column("request_id", UUID(as_uuid=True), nullable=False),
        Column("erased_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def create_erased_user_table_v1() -> None:
    """Create ``erased_user`` (shape v1) inside a service's Alembic migration."""
    from alembic import op

    op.create_table(
        "erased_user",
        Column("subject_sha256", String(64), primary_key=True),
        Column("request_id", UUID(as_uuid=True), nullable=False),
        Column("erased_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def drop_erased_user_table_v1() -> None:
    """Drop ``erased_user`` in an Alembic downgrade."""
    from alembic import op

    op.drop_table("erased_user")


def subject(user_id: uuid.UUID) -> str:
    """How the guard names a user: sha256 of the id."""
    return hashlib.sha256(str(user_id).encode()).hexdigest()


async def _lock(session: AsyncSession, user_id: uuid.UUID, *, exclusive: bool) -> None:
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(
        text(f"SELECT {function}(hashtextextended(:key, 0))"), {"key": f"aiflux-user:{user_id}"}
    )


async def guard_user(session: AsyncSession, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
    """Record that ``user_id`` is being erased; call first in the erasure's transaction.

    Waits for writes of the user that are already past their check, so the erasure that follows
    in this transaction sees (and deletes) what they wrote.
    """
    await _lock(session, user_id, exclusive=True)
    await session.execute(
        text(
            "INSERT INTO erased_user (subject_sha256, request_id) VALUES (:subject, :request_id)"
            " ON CONFLICT (subject_sha256) DO NOTHING"
        ),
        {"subject": subject(user_id), "request_id": request_id},
    )


async def is_erased(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """True when the user is erased or being erased; the caller's write must not happen.

    Takes the user's lock shared until the end of ``session``'s transaction, so write in the
    same transaction.
    """
    await _lock(session, user_id, exclusive=False)
    found = await session.execute(
        text("SELECT 1 FROM erased_user WHERE subject_sha256 = :subject"), {"subject": subject(user_id)}
    )
    return found.first() is not None


async def refuse_if_erased(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Raise a 410 ``account-erased`` problem when the user is erased or being erased."""
    if await is_erased(session, user_id):
        raise Problem(
            410,
            "account-erased",
            "Account deleted",
            "This account has been deleted; nothing more can be stored for it.",
        )


async def forget_user_messages(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Delete the published outbox rows that name ``user_id``; return how many.

    Unsent rows are kept: they still have to reach their consumers (the erasure's own events
    among them), and verification counts them.
    """
    result = await session.execute(
        text("DELETE FROM outbox WHERE sent_at IS NOT NULL AND strpos(body, :user_id) > 0"),
        {"user_id": str(user_id)},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def messaging_residue(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    """What the service's messaging still holds of the user, after forgetting the sent rows.

    Call from an erasure verification: published rows are forgotten first, so what remains is
    only what is still on its way (which makes the verification unclean until it is sent).
    """
    await forget_user_messages(session, user_id)
    pending = (
        await session.execute(
            text("SELECT count(*) FROM outbox WHERE strpos(body, :user_id) > 0"), {"user_id": str(user_id)}
        )
    ).scalar_one()
    guards = (
        await session.execute(
            text("SELECT count(*) FROM erased_user WHERE subject_sha256 = :subject"),
            {"subject": subject(user_id)},
        )
    ).scalar_one()
    return {"outbox_events": int(pending), GUARD_CATEGORY: int(guards)}


def receipt_messaging(remaining: dict[str, int]) -> dict[str, int]:
    """What remains of a user (with :func:`messaging_residue` in it) as a receipt reports it,
    counted in the erasure's own transaction: the messages naming the user still in the outbox
    (those on their way, the erasure's own among them) and the receipt itself stay for the
    messaging retention, so ``outbox_events`` becomes ``erasure_messages`` (+1, the receipt),
    which the receipt declares (pass the count to :func:`retained_by_erasure`)."""
    counts = {name: count for name, count in remaining.items() if name != "outbox_events"}
    counts[MESSAGES_CATEGORY] = remaining.get("outbox_events", 0) + 1
    return counts


def retained_by_erasure(
    service: str, outbox_keep_days: float, today: date | None = None, messages: int = 1
) -> list[RetainedItem]:
    """What every service keeps because of the erasure itself, for its receipt.

    The guard (a hash of the user id, so late requests cannot store anything again) and the
    service's last answers about the erasure (``messages`` of them), which stay in its outbox
    for the messaging retention after delivery. Each names its rule in privacy's retention catalog
    (``erasure-guard-<service>``, ``event-messages-<service>``) and carries that rule's basis.
    """
    today = today or datetime.now(UTC).date()
    return [
        RetainedItem(
            category=GUARD_CATEGORY,
            count=1,
            legal_basis=GUARD_BASIS,
            retained_until=today + timedelta(days=GUARD_KEEP_DAYS),
            retention_rule=f"erasure-guard-{service}",
        ),
        RetainedItem(
            category=MESSAGES_CATEGORY,
            count=messages,
            legal_basis=MESSAGES_BASIS,
            retained_until=today + timedelta(days=int(outbox_keep_days) + 1),
            retention_rule=f"event-messages-{service}",
        ),
    ]


async def forget_expired_guards(session: AsyncSession, keep_days: float = GUARD_KEEP_DAYS) -> int:
    """Delete guards older than ``keep_days``; return how many (part of messaging retention)."""
    result = await session.execute(
        text("DELETE FROM erased_user WHERE erased_at < now() - :keep"), {"keep": timedelta(days=keep_days)}
    )
    return int(getattr(result, "rowcount", 0) or 0)
