"""The credit ledger: balances, grants, take-backs, and holds for generations.

Every movement updates the user's ``account`` row with a conditional UPDATE (which locks the
row) in the same transaction as its ledger entry or hold, so concurrent requests serialise on
that row and the balance can never go negative. The SQL is in ``adapters/ledger.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from aiflux_contracts import CreditsCaptured, CreditsReleased, CreditsReserved
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.ledger import CreditLedger
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
    ledger = CreditLedger(session)
    await ledger.credit(user_id, credits)
    ledger.add_entry(user_id, kind, credits, payment_id=payment_id, note=note)


async def take_back_credits(
    session: AsyncSession, user_id: uuid.UUID, due: int, kind: EntryKind, payment_id: uuid.UUID
) -> TakeBack:
    """Take back up to ``due`` unspent credits; what was already spent is unrecovered."""
    ledger = CreditLedger(session)
    outcome = take_back(due, await ledger.available_locked(user_id))
    if outcome.taken:
        await ledger.debit(user_id, outcome.taken)
    if due:
        ledger.add_entry(
            user_id,
            kind,
            -outcome.taken,
            payment_id=payment_id,
            note=f"{outcome.unrecovered} credits already spent, not recovered"
            if outcome.unrecovered
            else None,
        )
    return outcome


async def reserve(
    session: AsyncSession, user_id: uuid.UUID, generation_id: uuid.UUID, credits: int, ttl: timedelta
) -> tuple[HoldView, bool]:
    """Hold ``credits`` for a generation; ``(hold, created)``. Same generation id, same hold.

    Refused for an erased user (the erasure guard's shared lock is held to the end)."""
    ledger = CreditLedger(session)
    if await ledger.is_erased(user_id):
        raise AccountErased("This account has been deleted; nothing more can be stored for it.")
    inserted = await ledger.insert_hold(user_id, generation_id, credits, ttl)
    if inserted is None:
        return _same_request(await _hold(ledger, generation_id), user_id, credits), False
    if not await ledger.debit_for_hold(user_id, credits):
        await _refuse(ledger, user_id, credits)  # raising rolls the new hold back too
    await add_event(
        session,
        CreditsReserved(user_id=user_id, hold_id=inserted, generation_id=generation_id, credits=credits),
    )
    return HoldView(inserted, generation_id, user_id, credits, HoldStatus.HELD.value), True


def _same_request(hold: HoldView, user_id: uuid.UUID, credits: int) -> HoldView:
    if hold.user_id != user_id or hold.credits != credits:
        raise HoldConflict("This generation already holds credits with different terms.")
    return hold


async def _refuse(ledger: CreditLedger, user_id: uuid.UUID, credits: int) -> None:
    balance = await ledger.balance(user_id)
    if balance.spending_frozen:
        raise SpendingFrozen(
            "A payment of this account is disputed; credits cannot be spent until the dispute is resolved."
        )
    raise InsufficientCredits(
        f"This needs {credits} credits and {balance.available} are available.",
        required=credits,
        available=balance.available,
    )


async def _hold(ledger: CreditLedger, generation_id: uuid.UUID, *, lock: bool = False) -> HoldView:
    if lock:
        # The owner's erasure lock before the row lock (the erasure takes them in that order):
        # an erasure running now finishes first, and then the hold is gone (404).
        owner = await ledger.hold_owner(generation_id)
        if owner is not None:
            await ledger.is_erased(owner)
    hold = await ledger.hold(generation_id, lock=lock)
    if hold is None:
        raise NotFound("No such hold.")
    return hold


async def capture(session: AsyncSession, generation_id: uuid.UUID) -> HoldView:
    """Turn a hold into a spend (idempotent); a voided hold cannot be captured."""
    ledger = CreditLedger(session)
    hold = await _hold(ledger, generation_id, lock=True)
    if hold.status == HoldStatus.CAPTURED:
        return hold
    if hold.status == HoldStatus.VOIDED:
        raise HoldVoided("The credits of this generation were already released.")
    await ledger.capture_hold(hold)
    ledger.add_entry(
        hold.user_id, EntryKind.SPEND, -hold.credits, hold_id=hold.hold_id, generation_id=generation_id
    )
    await add_event(
        session,
        CreditsCaptured(
            user_id=hold.user_id, hold_id=hold.hold_id, generation_id=generation_id, credits=hold.credits
        ),
    )
    return replace(hold, status=HoldStatus.CAPTURED.value)


async def void(session: AsyncSession, generation_id: uuid.UUID, reason: str) -> HoldView:
    """Release a hold's credits, at most once; a captured hold cannot be voided."""
    hold = await _hold(CreditLedger(session), generation_id, lock=True)
    if hold.status == HoldStatus.VOIDED:
        return hold
    if hold.status == HoldStatus.CAPTURED:
        raise HoldCaptured("The credits of this generation were already spent.")
    return await release(session, hold, reason)


async def release(session: AsyncSession, hold: HoldView, reason: str) -> HoldView:
    """Give a locked, still-held hold's credits back to the balance; the voided hold."""
    await CreditLedger(session).void_hold(hold, reason[:500])
    await add_event(
        session,
        CreditsReleased(
            user_id=hold.user_id,
            hold_id=hold.hold_id,
            generation_id=hold.generation_id,
            credits=hold.credits,
            reason=reason[:500],
        ),
    )
    return replace(hold, status=HoldStatus.VOIDED.value)


async def expired_hold_ids(session: AsyncSession, limit: int) -> list[uuid.UUID]:
    """Generation ids of holds past their deadline (for the hold-expiry sweep)."""
    return await CreditLedger(session).expired_hold_ids(limit)
