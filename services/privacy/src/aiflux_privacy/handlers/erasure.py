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
from aiflux_kit.erasure import MESSAGES_CATEGORY, guard_user, retained_by_erasure
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import repositories as store
from ..adapters.repositories import ErasureLedger
from ..domain import erasure as rules
from ..domain.records import PrivacyRequest, RequestStep
from ..domain.requests import EXPORT_TYPES, OPEN, RequestType, Status, due_date
from .own_data import erase_user, remaining_of_user, remaining_once_erased


async def on_user_deleted(
    ctx: HandlerContext, event: UserDeleted, pepper: str, outbox_keep_days: float
) -> None:
    """Track the erasure (a deleted account starts one) and erase privacy's own data.

    Every delivery (a re-drive too) erases whatever exists now and reports it.
    """
    await guard_user(ctx.session, event.user_id, event.request_id)
    now = datetime.now(UTC)
    source = {"user_request": "account_deletion"}.get(event.reason, event.reason)
    await store.track_erasure(
        ctx.session, event.request_id, event.user_id, source, now, due_date(now), event.status_token_sha256
    )
    cancelled = await cancel_exports(ctx.session, event.user_id)
    deleted = await erase_user(
        ctx.session, event.user_id, keep_request=event.request_id, name_sha256=event.account_name_sha256
    )
    deleted["exports_cancelled"] = cancelled
    remaining = await remaining_once_erased(ctx.session, event.user_id, event.request_id)
    receipt = cast(type[ErasureCompletedBase], ErasureCompleted["privacy"])
    await ctx.publish(
        receipt(
            request_id=event.request_id,
            user_id=event.user_id,
            deleted=await _in_total(ctx.session, event.request_id, deleted),
            retained=retained_by_erasure("privacy", outbox_keep_days, messages=remaining[MESSAGES_CATEGORY]),
            remaining=remaining,
        )
    )


async def _in_total(session: AsyncSession, request_id: uuid.UUID, deleted: dict[str, int]) -> dict[str, int]:
    """This run's counts added to those of privacy's earlier receipt for the request: a
    receipt reports what the erasure erased in total, re-drives included."""
    earlier = await store.step_receipt(session, request_id, "privacy") or {}
    before = earlier.get("deleted", {})
    return {
        name: count + int(before.get(name, 0))
        for name, count in {**dict.fromkeys(before, 0), **deleted}.items()
    }


async def cancel_exports(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Cancel the user's open access/portability requests: no archive is built or mailed for
    an erased user (the erasure then deletes the requests with the rest)."""
    return await store.close_open_of_user(
        session,
        user_id,
        EXPORT_TYPES,
        OPEN,
        status=Status.CANCELLED,
        outcome="cancelled_by_erasure",
        answer="The account was erased before the export was ready.",
        closed_at=datetime.now(UTC),
    )


async def on_receipt(
    ctx: HandlerContext, service: str, event: ErasureCompletedBase, pepper: str, max_redrives: int = 0
) -> None:
    """Record a service's receipt, merged with an earlier one of a re-drive, and the
    verification it carries (what remains, counted by the service as it erased).

    Services answer a re-drive either by repeating their first receipt or by reporting only what
    they erased this time; keeping the larger count per category is right for both.
    """
    session = ctx.session
    previous = await store.step_receipt(session, event.request_id, service) or {}
    receipt = {
        "deleted": rules.merged_counts(previous.get("deleted", {}), event.deleted),
        "retained": [item.model_dump(mode="json") for item in event.retained],
    }
    now = datetime.now(UTC)
    await store.save_receipt(session, event.request_id, service, receipt, now)
    if event.remaining is not None:
        clean = not rules.residue(receipt, event.remaining)
        await store.save_verification(
            session, event.request_id, service, {"remaining": event.remaining}, now, clean
        )
    await advance(ErasureLedger(session), event.request_id, pepper, max_redrives)


async def on_verified(
    ctx: HandlerContext, service: str, event: ErasureVerifiedBase, pepper: str, max_redrives: int
) -> None:
    """Record a service's verification; clean when only declared retained items remain."""
    session = ctx.session
    receipt = await store.step_receipt(session, event.request_id, service) or {}
    clean = not rules.residue(receipt, event.remaining)
    verification = {"remaining": event.remaining}
    now = datetime.now(UTC)
    await store.save_verification(session, event.request_id, service, verification, now, clean)
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
        rows = await store.stalled_requests(
            session, [Status.IN_PROGRESS, Status.VERIFYING], cutoff, max_redrives
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
    elif only_unclean:
        # A receipt counted residue as it erased: its service must erase (and answer) again.
        await ledger.reopen_steps(row.id, only_unclean=True)
    reason = "minor" if row.source == "minor" else "privacy_request"
    await ledger.publish(ErasureRequested(request_id=row.id, user_id=row.user_id, reason=reason))


async def on_user_purged(ctx: HandlerContext, event: UserPurged, pepper: str) -> None:
    """Identity dropped the last row (the address): note it on the erasure's certificate."""
    subject = rules.subject_hash(event.user_id, pepper)
    for row in await store.requests_of_subject(ctx.session, subject):
        certificate = dict(row.certificate or {})
        certificate["identity_purged_at"] = ctx.envelope.occurred_at.isoformat()
        await ErasureLedger(ctx.session).set(row.id, certificate=certificate)
