"""The erasure cascade in identity: disable on request, erase on ``UserDeleted``, answer the
verification. Every delivery (a re-drive too) erases what exists now."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, cast

from aiflux_contracts import (
    ErasureCompleted,
    ErasureRequested,
    ErasureVerificationRequested,
    ErasureVerified,
    RetainedItem,
    UserDeleted,
)
from aiflux_contracts.receipts import ErasureCompletedBase, ErasureVerifiedBase
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import MESSAGES_CATEGORY, receipt_messaging, retained_by_erasure

from ..adapters.records import SecurityLogSpan
from .account import disable_account
from .common import SYSTEM, utcnow
from .ports import UserData

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer

# The retention rules (privacy's catalog, §5) that keep these after an erasure, with their bases.
ACCOUNT_RULE, ACCOUNT_BASIS = "account-data", "Art. 6(1)(b)"
SECURITY_RULE, SECURITY_BASIS = "security-logs", "Art. 6(1)(f)"
MAIL_SPOOL_RULE, MAIL_SPOOL_BASIS = "mail-spool", "Art. 6(1)(b)"

# identity's own receipt classes (the contracts build one per service at import).
COMPLETED = cast("type[ErasureCompletedBase]", ErasureCompleted["identity"])
VERIFIED = cast("type[ErasureVerifiedBase]", ErasureVerified["identity"])


async def on_erasure_requested(c: IdentityContainer, ctx: HandlerContext, event: ErasureRequested) -> None:
    """Disable the account and publish UserDeleted with the request's id (re-drives too)."""
    await disable_account(ctx.session, event.user_id, event.request_id, event.reason, SYSTEM)


async def on_user_deleted(c: IdentityContainer, ctx: HandlerContext, event: UserDeleted) -> None:
    """Erase sessions, tokens, kept mails and published messages; keep the disabled row and
    the security log; send a receipt naming what is kept and by which rule."""
    data = c.user_data(ctx.session)
    await data.guard(event.user_id, event.request_id)
    addresses = await data.addresses(event.user_id)
    deleted = {
        "sessions": await data.delete_sessions(event.user_id),
        "email_tokens": await data.delete_email_tokens(event.user_id),
        "mails": sum([await c.mailer.forget_recipient(a) for a in addresses]),
        "outbox_events": await data.forget_messages(event.user_id),
    }
    # The verification, in this transaction: what remains now (the receipt carries it).
    remaining = receipt_messaging(await _remaining(c, data, event.user_id, addresses))
    await ctx.publish(
        COMPLETED(
            request_id=event.request_id,
            user_id=event.user_id,
            deleted=deleted,
            retained=await _retained(c, data, event.user_id, remaining[MESSAGES_CATEGORY]),
            remaining=remaining,
        )
    )


async def _remaining(
    c: IdentityContainer, data: UserData, user_id: uuid.UUID, addresses: set[str]
) -> dict[str, int]:
    """What identity still holds of the user, kept mails and messages included."""
    mails = sum([await c.mailer.count_for(a) for a in addresses])
    return {**await data.remaining(user_id), "mails": mails}


async def _retained(
    c: IdentityContainer, data: UserData, user_id: uuid.UUID, messages: int = 1
) -> list[RetainedItem]:
    s, today = c.settings, utcnow().date()
    kept = retained_items(
        await data.disabled_at(user_id),
        await data.security_log_span(user_id),
        keeps_mail=c.mailer.keeps_copies,
        purge_after_days=s.purge_after_days,
        log_days=s.security_log_retention_days,
        spool_days=s.mail_spool_keep_days,
        today=today,
    )
    by_erasure: list[RetainedItem] = retained_by_erasure("identity", s.outbox_keep_days, today, messages)
    return kept + by_erasure


def retained_items(
    disabled_at: datetime | None,
    log: SecurityLogSpan,
    *,
    keeps_mail: bool,
    purge_after_days: int,
    log_days: int,
    spool_days: int,
    today: date,
) -> list[RetainedItem]:
    """What identity keeps after an erasure, each with its rule, basis and end date."""
    kept = []
    if disabled_at is not None:
        kept.append(
            RetainedItem(
                category="disabled_account",
                count=1,
                legal_basis=ACCOUNT_BASIS,
                retained_until=(disabled_at + timedelta(days=purge_after_days)).date(),
                retention_rule=ACCOUNT_RULE,
            )
        )
    if log.rows and log.newest is not None:
        until = (log.newest + timedelta(days=log_days)).date()
        kept.append(
            RetainedItem(
                category="security_log",
                count=log.rows,
                legal_basis=SECURITY_BASIS,
                retained_until=max(until, today),
                retention_rule=SECURITY_RULE,
            )
        )
    if keeps_mail:
        # Sent after the certificate, so no verification sees it: declared here instead.
        kept.append(
            RetainedItem(
                category="erasure_confirmation_mail",
                count=1,
                legal_basis=MAIL_SPOOL_BASIS,
                retained_until=today + timedelta(days=spool_days + 1),
                retention_rule=MAIL_SPOOL_RULE,
            )
        )
    return kept


async def on_verification_requested(
    c: IdentityContainer, ctx: HandlerContext, event: ErasureVerificationRequested
) -> None:
    """Count what identity still holds of the user, kept mails and messages included."""
    data = c.user_data(ctx.session)
    remaining = await _remaining(c, data, event.user_id, await data.addresses(event.user_id))
    await ctx.publish(VERIFIED(request_id=event.request_id, user_id=event.user_id, remaining=remaining))
