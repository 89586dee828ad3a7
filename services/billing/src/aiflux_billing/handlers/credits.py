"""The credit ledger: balances, grants, take-backs, and holds for generations.

Every movement updates the user's ``account`` row with a conditional UPDATE (which locks the
row) in the same transaction as its ledger entry or hold, so concurrent requests serialise on
that row and the balance can never go negative.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aiflux_contracts import CreditsCaptured, CreditsReleased, CreditsReserved
from aiflux_kit.erasure import is_erased
from aiflux_kit.outbox import add_event
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.orm import Account, Hold, LedgerEntry
from ..domain.errors import (
    AccountErased,
    HoldCaptured,
    HoldConflict,
    HoldVoided,
    InsufficientCredits,
    NotFound,
    SpendingFrozen,
)
from ..domain.records import HoldView
from ..domain.rules import EntryKind, HoldStatus, TakeBack, take_back


def hold_view(hold: Hold) -> HoldView:
    """The view of an ORM hold."""
    return HoldView(hold.id, hold.generation_id, hold.user_id, hold.credits, hold.status)


async def grant(
    session: AsyncSession,
    user_id: uuid.UUID,
    credits: int,
    kind: EntryKind,
    *,
    payment_id: uuid.UUID | None = None,
    note: str | None = None,
) -> None:
    """Add ``credits`` to the balance with a ledger entry (purchases, adjustments)."""
    await session.execute(
        insert(Account)
        .values(user_id=user_id, available=credits)
        .on_conflict_do_update(
            index_elements=[Account.user_id],
            set_={"available": Account.available + credits, "updated_at": func.now()},
        )
    )
    session.add(
        LedgerEntry(user_id=user_id, kind=kind.value, credits=credits, payment_id=payment_id, note=note)
    )


async def take_back_credits(
    session: AsyncSession, user_id: uuid.UUID, due: int, kind: EntryKind, payment_id: uuid.UUID
) -> TakeBack:
    """Take back up to ``due`` unspent credits; what was already spent is unrecovered."""
    available = await session.scalar(
        select(Account.available).where(Account.user_id == user_id).with_for_update()
    )
    outcome = take_back(due, available or 0)
    if outcome.taken:
        await session.execute(
            update(Account)
            .where(Account.user_id == user_id)
            .values(available=Account.available - outcome.taken, updated_at=func.now())
        )
    if due:
        session.add(
            LedgerEntry(
                user_id=user_id,
                kind=kind.value,
                credits=-outcome.taken,
                payment_id=payment_id,
                note=f"{outcome.unrecovered} credits already spent, not recovered"
                if outcome.unrecovered
                else None,
            )
        )
    return outcome


async def reserve(
    session: AsyncSession, user_id: uuid.UUID, generation_id: uuid.UUID, credits: int, ttl: timedelta
) -> tuple[HoldView, bool]:
    """Hold ``credits`` for a generation; ``(hold, created)``. Same generation id, same hold.

    Refused for an erased user (the erasure guard's shared lock is held to the end)."""
    if await is_erased(session, user_id):
        raise AccountErased("This account has been deleted; nothing more can be stored for it.")
    inserted = await session.scalar(
        insert(Hold)
        .values(
            id=uuid.uuid4(),
            generation_id=generation_id,
            user_id=user_id,
            credits=credits,
            status=HoldStatus.HELD.value,
            expires_at=datetime.now(UTC) + ttl,
        )
        .on_conflict_do_nothing(index_elements=[Hold.generation_id])
        .returning(Hold.id)
    )
    if inserted is None:
        return _same_request(await _hold(session, generation_id), user_id, credits), False
    debited = await session.execute(
        update(Account)
        .where(Account.user_id == user_id, Account.available >= credits, Account.open_disputes == 0)
        .values(available=Account.available - credits, held=Account.held + credits, updated_at=func.now())
        .returning(Account.available)
    )
    if debited.first() is None:
        await _refuse(session, user_id, credits)  # raising rolls the new hold back too
    await add_event(
        session,
        CreditsReserved(user_id=user_id, hold_id=inserted, generation_id=generation_id, credits=credits),
    )
    return HoldView(inserted, generation_id, user_id, credits, HoldStatus.HELD.value), True


def _same_request(hold: Hold, user_id: uuid.UUID, credits: int) -> HoldView:
    if hold.user_id != user_id or hold.credits != credits:
        raise HoldConflict("This generation already holds credits with different terms.")
    return hold_view(hold)


async def _refuse(session: AsyncSession, user_id: uuid.UUID, credits: int) -> None:
    account = await session.get(Account, user_id)
    if account is not None and account.open_disputes > 0:
        raise SpendingFrozen(
            "A payment of this account is disputed; credits cannot be spent until the dispute is resolved."
        )
    available = account.available if account else 0
    raise InsufficientCredits(
        f"This needs {credits} credits and {available} are available.", required=credits, available=available
    )


async def _hold(session: AsyncSession, generation_id: uuid.UUID, *, lock: bool = False) -> Hold:
    query = select(Hold).where(Hold.generation_id == generation_id)
    if lock:
        # The owner's erasure lock before the row lock (the erasure takes them in that order):
        # an erasure running now finishes first, and then the hold is gone (404).
        owner = await session.scalar(select(Hold.user_id).where(Hold.generation_id == generation_id))
        if owner is not None:
            await is_erased(session, owner)
    hold = await session.scalar(query.with_for_update() if lock else query)
    if hold is None:
        raise NotFound("No such hold.")
    return hold


async def capture(session: AsyncSession, generation_id: uuid.UUID) -> HoldView:
    """Turn a hold into a spend (idempotent); a voided hold cannot be captured."""
    hold = await _hold(session, generation_id, lock=True)
    if hold.status == HoldStatus.CAPTURED:
        return hold_view(hold)
    if hold.status == HoldStatus.VOIDED:
        raise HoldVoided("The credits of this generation were already released.")
    hold.status, hold.settled_at = HoldStatus.CAPTURED.value, datetime.now(UTC)
    await session.execute(
        update(Account)
        .where(Account.user_id == hold.user_id)
        .values(held=Account.held - hold.credits, updated_at=func.now())
    )
    session.add(
        LedgerEntry(
            user_id=hold.user_id,
            kind=EntryKind.SPEND.value,
            credits=-hold.credits,
            hold_id=hold.id,
            generation_id=generation_id,
        )
    )
    await add_event(
        session,
        CreditsCaptured(
            user_id=hold.user_id, hold_id=hold.id, generation_id=generation_id, credits=hold.credits
        ),
    )
    return hold_view(hold)


async def void(session: AsyncSession, generation_id: uuid.UUID, reason: str) -> HoldView:
    """Release a hold's credits, at most once; a captured hold cannot be voided."""
    hold = await _hold(session, generation_id, lock=True)
    if hold.status == HoldStatus.VOIDED:
        return hold_view(hold)
    if hold.status == HoldStatus.CAPTURED:
        raise HoldCaptured("The credits of this generation were already spent.")
    await release(session, hold, reason)
    return hold_view(hold)


async def release(session: AsyncSession, hold: Hold, reason: str) -> None:
    """Give a locked, still-held hold's credits back to the balance."""
    hold.status, hold.reason = HoldStatus.VOIDED.value, reason[:500]
    hold.settled_at = datetime.now(UTC)
    await session.execute(
        update(Account)
        .where(Account.user_id == hold.user_id)
        .values(
            available=Account.available + hold.credits,
            held=Account.held - hold.credits,
            updated_at=func.now(),
        )
    )
    await add_event(
        session,
        CreditsReleased(
            user_id=hold.user_id,
            hold_id=hold.id,
            generation_id=hold.generation_id,
            credits=hold.credits,
            reason=reason[:500],
        ),
    )


async def expired_hold_ids(session: AsyncSession, limit: int) -> list[uuid.UUID]:
    """Generation ids of holds past their deadline (for the hold-expiry sweep)."""
    return list(
        (
            await session.scalars(
                select(Hold.generation_id)
                .where(Hold.status == HoldStatus.HELD.value, Hold.expires_at < func.now())
                .order_by(Hold.expires_at)
                .limit(limit)
            )
        ).all()
    )
