"""The erasure process manager: receipts from every service, re-drive of stalled steps,
verification that nothing is left, then a certificate without personal data and the
confirmation mail (sent while identity still holds the address)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from aiflux_contracts import (
    ErasureCompleted,
    ErasureRequested,
    ErasureVerificationRequested,
    ErasureVerified,
    Event,
    ExportRequested,
    UserDeleted,
    UserNotificationRequested,
    UserPurged,
)
from aiflux_contracts.receipts import ErasureCompletedBase, ErasureVerifiedBase
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.db import Database
from aiflux_kit.erasure import guard_user, retained_by_erasure
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.orm import privacy_request, request_step
from ..adapters.repositories import ErasureLedger, requests_where
from ..domain import erasure as rules
from ..domain.records import PrivacyRequest, RequestStep
from ..domain.requests import EXPORT_TYPES, OPEN, RequestType, Status, due_date
from .own_data import erase_user, remaining_of_user


async def on_user_deleted(
    ctx: HandlerContext, event: UserDeleted, pepper: str, outbox_keep_days: float
) -> None:
    """Track the erasure (a deleted account starts one) and erase privacy's own data.

    Every delivery (a re-drive too) erases whatever exists now and reports it.
    """
    await guard_user(ctx.session, event.user_id, event.request_id)
    now = datetime.now(UTC)
    source = {"user_request": "account_deletion"}.get(event.reason, event.reason)
    await ctx.session.execute(
        pg_insert(privacy_request)
        .values(
            id=event.request_id,
            user_id=event.user_id,
            type=RequestType.ERASURE,
            status=Status.IN_PROGRESS,
            source=source,
            received_at=now,
            due_at=due_date(now),
            progress_at=now,
            status_token_sha256=event.status_token_sha256,
        )
        .on_conflict_do_nothing()
    )
    cancelled = await cancel_exports(ctx.session, event.user_id)
    deleted = await erase_user(
        ctx.session, event.user_id, keep_request=event.request_id, name_sha256=event.account_name_sha256
    )
    deleted["exports_cancelled"] = cancelled
    receipt = cast(type[ErasureCompletedBase], ErasureCompleted["privacy"])
    await ctx.publish(
        receipt(
            request_id=event.request_id,
            user_id=event.user_id,
            deleted=await _in_total(ctx.session, event.request_id, deleted),
            retained=retained_by_erasure("privacy", outbox_keep_days),
        )
    )


async def _in_total(session: AsyncSession, request_id: uuid.UUID, deleted: dict[str, int]) -> dict[str, int]:
    """This run's counts added to those of privacy's earlier receipt for the request: a
    receipt reports what the erasure erased in total, re-drives included."""
    earlier = (
        await session.execute(
            select(request_step.c.receipt).where(
                request_step.c.request_id == request_id, request_step.c.service == "privacy"
            )
        )
    ).scalar_one_or_none() or {}
    before = earlier.get("deleted", {})
    return {
        name: count + int(before.get(name, 0))
        for name, count in {**dict.fromkeys(before, 0), **deleted}.items()
    }


async def cancel_exports(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Cancel the user's open access/portability requests: no archive is built or mailed for
    an erased user (the erasure then deletes the requests with the rest)."""
    result: Any = await session.execute(
        update(privacy_request)
        .where(
            privacy_request.c.user_id == user_id,
            privacy_request.c.type.in_(EXPORT_TYPES),
            privacy_request.c.status.in_(OPEN),
        )
        .values(
            status=Status.CANCELLED,
            outcome="cancelled_by_erasure",
            answer="The account was erased before the export was ready.",
            closed_at=datetime.now(UTC),
        )
    )
    return int(result.rowcount or 0)


async def on_receipt(ctx: HandlerContext, service: str, event: ErasureCompletedBase, pepper: str) -> None:
    """Record a service's receipt, merged with an earlier one of a re-drive.

    Services answer a re-drive either by repeating their first receipt or by reporting only what
    they erased this time; keeping the larger count per category is right for both.
    """
    session = ctx.session
    previous = (
        await session.execute(
            select(request_step.c.receipt).where(
                request_step.c.request_id == event.request_id, request_step.c.service == service
            )
        )
    ).scalar_one_or_none() or {}
    receipt = {
        "deleted": rules.merged_counts(previous.get("deleted", {}), event.deleted),
        "retained": [item.model_dump(mode="json") for item in event.retained],
    }
    now = datetime.now(UTC)
    await session.execute(
        pg_insert(request_step)
        .values(
            request_id=event.request_id,
            service=service,
            receipt=receipt,
            receipt_at=now,
        )
        .on_conflict_do_update(
            index_elements=["request_id", "service"], set_={"receipt": receipt, "receipt_at": now}
        )
    )
    await advance(ErasureLedger(session), event.request_id, pepper)


async def on_verified(
    ctx: HandlerContext, service: str, event: ErasureVerifiedBase, pepper: str, max_redrives: int
) -> None:
    """Record a service's verification; clean when only declared retained items remain."""
    session = ctx.session
    receipt = (
        await session.execute(
            select(request_step.c.receipt).where(
                request_step.c.request_id == event.request_id, request_step.c.service == service
            )
        )
    ).scalar_one_or_none() or {}
    clean = not rules.residue(receipt, event.remaining)
    verification = {"remaining": event.remaining}
    now = datetime.now(UTC)
    await session.execute(
        pg_insert(request_step)
        .values(
            request_id=event.request_id,
            service=service,
            verification=verification,
            verified_at=now,
            clean=clean,
        )
        .on_conflict_do_update(
            index_elements=["request_id", "service"],
            set_={"verification": verification, "verified_at": now, "clean": clean},
        )
    )
    await advance(ErasureLedger(session), event.request_id, pepper, max_redrives)


async def on_verification_requested(ctx: HandlerContext, event: ErasureVerificationRequested) -> None:
    """Privacy's own answer: what it still holds of the user."""
    remaining = await remaining_of_user(ctx.session, event.user_id, event.request_id)
    answer = cast(type[ErasureVerifiedBase], ErasureVerified["privacy"])
    await ctx.publish(answer(request_id=event.request_id, user_id=event.user_id, remaining=remaining))


class ErasureTracking(Protocol):
    """What the process manager needs of storage (``adapters.repositories.ErasureLedger``;
    unit tests hand in an in-memory one)."""

    async def load(self, request_id: uuid.UUID) -> PrivacyRequest | None: ...
    async def steps(self, request_id: uuid.UUID) -> list[RequestStep]: ...
    async def set(self, request_id: uuid.UUID, **values: Any) -> None: ...
    async def clear_verifications(self, request_id: uuid.UUID) -> None: ...
    async def reopen_steps(self, request_id: uuid.UUID, *, only_unclean: bool) -> None: ...
    async def publish(self, event: Event) -> None: ...


async def advance(ledger: ErasureTracking, request_id: uuid.UUID, pepper: str, max_redrives: int = 0) -> None:
    """Move the erasure on when every service has answered the current phase; a verification
    that found residue re-drives the erasure at once (up to ``max_redrives`` times)."""
    row = await ledger.load(request_id)
    if row is None or row.type != RequestType.ERASURE or row.user_id is None:
        return  # receipts may arrive before UserDeleted reached us; that handler advances
    steps = {s.service: s for s in await ledger.steps(request_id)}
    now = datetime.now(UTC)
    move = rules.next_move(row.status, steps, row.redrives, max_redrives)
    if move is rules.Move.VERIFY:
        await ledger.clear_verifications(request_id)
        await ledger.set(request_id, status=Status.VERIFYING, progress_at=now)
        await ledger.publish(ErasureVerificationRequested(request_id=request_id, user_id=row.user_id))
    elif move is rules.Move.REDRIVE:
        await _redrive_erasure(ledger, row, only_unclean=True)
        await ledger.set(request_id, progress_at=now, redrives=row.redrives + 1)
    elif move is rules.Move.CERTIFY:
        await _complete(ledger, row, row.user_id, steps, pepper)
    elif row.status in (Status.IN_PROGRESS, Status.VERIFYING):
        await ledger.set(request_id, progress_at=now)


async def _complete(
    ledger: ErasureTracking,
    row: PrivacyRequest,
    user_id: uuid.UUID,
    steps: dict[str, RequestStep],
    pepper: str,
) -> None:
    now = datetime.now(UTC)
    subject = rules.subject_hash(user_id, pepper)
    as_dicts = {
        name: {
            "receipt": s.receipt or {},
            "verification": s.verification or {},
            "receipt_at": _iso(s.receipt_at),
            "verified_at": _iso(s.verified_at),
        }
        for name, s in steps.items()
    }
    certificate = rules.certificate(row.id, subject, as_dicts, now)
    # The mail goes out before the user id is dropped here and before identity's purge.
    await ledger.publish(
        UserNotificationRequested(
            user_id=user_id,
            template="erasure_confirmation",
            params={
                "request_id": str(row.id),
                "subject_sha256": subject,
                "completed_at": now.isoformat(),
                "retained": certificate["retained"],
            },
        )
    )
    await ledger.set(
        row.id,
        status=Status.COMPLETED,
        outcome="erased",
        closed_at=now,
        certificate=certificate,
        subject_hash=subject,
        user_id=None,
        details=None,
        progress_at=now,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def redrive_stalled(database: Database, stall_after_s: float, max_redrives: int) -> dict[str, int]:
    """Re-publish the request of every erasure or export that made no progress for a while.

    Services answer idempotently, so a re-drive only fills what is missing. An erasure whose
    verification found residue goes back to collecting receipts from the services concerned.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=stall_after_s)
    counts = {"erasures": 0, "exports": 0}
    async with database.transaction() as session:
        ledger = ErasureLedger(session)
        rows = await requests_where(
            session,
            select(privacy_request)
            .where(
                privacy_request.c.status.in_([Status.IN_PROGRESS, Status.VERIFYING]),
                privacy_request.c.user_id.is_not(None),
                privacy_request.c.progress_at < cutoff,
                privacy_request.c.redrives < max_redrives,
            )
            .with_for_update(skip_locked=True),
        )
        for row in rows:
            if row.type == RequestType.ERASURE:
                await _redrive_erasure(ledger, row)
                counts["erasures"] += 1
            else:
                await ledger.publish(ExportRequested(request_id=row.id, user_id=row.user_id))
                counts["exports"] += 1
            await ledger.set(row.id, progress_at=datetime.now(UTC), redrives=row.redrives + 1)
    return counts


async def _redrive_erasure(
    ledger: ErasureTracking, row: PrivacyRequest, *, only_unclean: bool = False
) -> None:
    if row.status == Status.VERIFYING:
        # Those that did not confirm a clean state must erase (and answer) again; right after
        # an unclean verification, those still verifying are left to answer.
        await ledger.reopen_steps(row.id, only_unclean=only_unclean)
        await ledger.set(row.id, status=Status.IN_PROGRESS)
    reason = "minor" if row.source == "minor" else "privacy_request"
    await ledger.publish(ErasureRequested(request_id=row.id, user_id=row.user_id, reason=reason))


async def on_user_purged(ctx: HandlerContext, event: UserPurged, pepper: str) -> None:
    """Identity dropped the last row (the address): note it on the erasure's certificate."""
    subject = rules.subject_hash(event.user_id, pepper)
    rows = (
        await ctx.session.execute(
            select(privacy_request.c.id, privacy_request.c.certificate).where(
                privacy_request.c.subject_hash == subject
            )
        )
    ).all()
    for row in rows:
        certificate = dict(row.certificate or {})
        certificate["identity_purged_at"] = ctx.envelope.occurred_at.isoformat()
        await ErasureLedger(ctx.session).set(row.id, certificate=certificate)
