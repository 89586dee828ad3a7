"""Answers to the privacy service: erasure, receipts, verification, exports, user mails."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiflux_contracts import (
    ErasureCompleted,
    ErasureRequested,
    ErasureVerificationRequested,
    ErasureVerified,
    ExportPartReady,
    ExportRequested,
    RetainedItem,
    UserDeleted,
    UserNotificationRequested,
)
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import (
    forget_user_messages,
    guard_user,
    is_erased,
    messaging_residue,
    retained_by_erasure,
)
from aiflux_kit.http import peer_client, retrying
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.mail import Mail, MailNotSent, smtp_code
from ..adapters.orm import email_tokens, security_log, sessions, users
from ..domain import messages
from .account import disable_account
from .common import SYSTEM, IdentityContainer, log_mail_failure, utcnow

log = logging.getLogger(__name__)

# The retention rules (privacy's catalog, §5) that keep these after an erasure, with their bases.
ACCOUNT_RULE, ACCOUNT_BASIS = "account-data", "Art. 6(1)(b)"
SECURITY_RULE, SECURITY_BASIS = "security-logs", "Art. 6(1)(f)"
MAIL_SPOOL_RULE, MAIL_SPOOL_BASIS = "mail-spool", "Art. 6(1)(b)"
AFTER_ERASURE = "erasure_confirmation"
"""The one mail an erased user still gets (sent after the certificate, before the purge)."""


async def on_erasure_requested(c: IdentityContainer, ctx: HandlerContext,
                               event: ErasureRequested) -> None:
    """Disable the account and publish UserDeleted with the request's id (re-drives too)."""
    await disable_account(ctx.session, event.user_id, event.request_id, event.reason, SYSTEM)


async def on_user_deleted(c: IdentityContainer, ctx: HandlerContext, event: UserDeleted) -> None:
    """Erase sessions, tokens, kept mails and published messages; keep the disabled row and
    the security log; send a receipt. Every delivery (a re-drive too) erases what exists now."""
    s = ctx.session
    await guard_user(s, event.user_id, event.request_id)
    addresses = await _addresses(s, event.user_id)
    ended = (await s.execute(delete(sessions).where(sessions.c.user_id == event.user_id))).rowcount
    tokens = (await s.execute(
        delete(email_tokens).where(email_tokens.c.user_id == event.user_id))).rowcount
    mails = sum([await c.mailer.forget_recipient(address) for address in addresses])
    await ctx.publish(ErasureCompleted["identity"](
        request_id=event.request_id, user_id=event.user_id,
        deleted={"sessions": ended or 0, "email_tokens": tokens or 0, "mails": mails,
                 "outbox_events": await forget_user_messages(s, event.user_id)},
        retained=await _retained(c, s, event.user_id)))


async def _addresses(session: AsyncSession, user_id: uuid.UUID) -> set[str]:
    """Every address identity mailed for the user: the account's and pending new ones."""
    found = set((await session.execute(select(users.c.email).where(
        users.c.id == user_id))).scalars())
    found |= set((await session.execute(select(email_tokens.c.new_email).where(
        email_tokens.c.user_id == user_id, email_tokens.c.new_email.is_not(None)))).scalars())
    return {address for address in found if address}


async def _retained(c: IdentityContainer, s: AsyncSession, user_id: uuid.UUID
                    ) -> list[RetainedItem]:
    retained = []
    today = utcnow().date()
    row = (await s.execute(select(users.c.deleted_at).where(users.c.id == user_id))).first()
    if row is not None and row.deleted_at is not None:
        purge_on = (row.deleted_at + timedelta(days=c.settings.purge_after_days)).date()
        retained.append(RetainedItem(category="disabled_account", count=1,
                                     legal_basis=ACCOUNT_BASIS, retained_until=purge_on,
                                     retention_rule=ACCOUNT_RULE))
    oldest_log, log_rows = (await s.execute(
        select(func.max(security_log.c.created_at), func.count())
        .where(security_log.c.user_id == user_id))).one()
    if log_rows:
        until = (oldest_log + timedelta(days=c.settings.security_log_retention_days)).date()
        retained.append(RetainedItem(category="security_log", count=log_rows,
                                     legal_basis=SECURITY_BASIS, retained_until=max(until, today),
                                     retention_rule=SECURITY_RULE))
    if c.mailer.keeps_copies:
        # Sent after the certificate, so no verification sees it: declared here instead.
        keep = c.settings.mail_spool_keep_days
        retained.append(RetainedItem(category="erasure_confirmation_mail", count=1,
                                     legal_basis=MAIL_SPOOL_BASIS,
                                     retained_until=today + timedelta(days=keep + 1),
                                     retention_rule=MAIL_SPOOL_RULE))
    return retained + retained_by_erasure("identity", c.settings.outbox_keep_days, today)


async def on_verification_requested(c: IdentityContainer, ctx: HandlerContext,
                                    event: ErasureVerificationRequested) -> None:
    """Count what identity still holds of the user, kept mails and messages included."""
    s, uid = ctx.session, event.user_id

    async def count(table: Any) -> int:
        return int((await s.execute(select(func.count()).select_from(table)
                                    .where(table.c.user_id == uid))).scalar_one())

    accounts = int((await s.execute(select(func.count()).select_from(users)
                                    .where(users.c.id == uid))).scalar_one())
    mails = sum([await c.mailer.count_for(address) for address in await _addresses(s, uid)])
    await ctx.publish(ErasureVerified["identity"](
        request_id=event.request_id, user_id=uid,
        remaining={"disabled_account": accounts, "sessions": await count(sessions),
                   "email_tokens": await count(email_tokens),
                   "security_log": await count(security_log), "mails": mails,
                   **await messaging_residue(s, uid)}))


async def export_document(ctx: HandlerContext, user_id: uuid.UUID) -> dict[str, Any]:
    """What identity holds of the user: profile, sessions, security log."""
    s = ctx.session
    user = (await s.execute(select(users).where(users.c.id == user_id))).first()
    profile = None if user is None else {
        k: v for k, v in user._mapping.items() if k != "password_hash"}
    session_rows = (await s.execute(select(sessions).where(sessions.c.user_id == user_id))).all()
    log_rows = (await s.execute(select(security_log).where(security_log.c.user_id == user_id)
                                .order_by(security_log.c.created_at))).all()
    hidden = {"token_hash", "csrf_token_hash"}
    return {"service": "identity", "user_id": str(user_id), "profile": profile,
            "sessions": [{k: v for k, v in r._mapping.items() if k not in hidden}
                         for r in session_rows],
            "security_log": [dict(r._mapping) for r in log_rows]}


async def on_export_requested(c: IdentityContainer, ctx: HandlerContext,
                              event: ExportRequested) -> None:
    """Write identity.json through storage's export route, then announce the part.

    Not for an erased user: the erasure cancelled the export (storage answers 410 too), so the
    event finishes without a part.
    """
    if await is_erased(ctx.session, event.user_id):
        return
    body = json.dumps(await export_document(ctx, event.user_id), default=str, indent=2).encode()
    path = f"/internal/storage/exports/{event.request_id}/objects/identity.json"
    async with peer_client("identity", "storage", c.settings) as client:

        async def put() -> Any:
            response = await client.put(path, content=body,
                                        params={"user_id": str(event.user_id)},
                                        headers={"Content-Type": "application/json"})
            if response.status_code != 410:
                response.raise_for_status()
            return response

        response = await retrying(put)
    if response.status_code == 410:
        return  # the user was erased: storage cancelled the export, no part
    key = str(response.json().get("key", f"exports/{event.request_id}/identity.json"))
    await ctx.publish(ExportPartReady["identity"](
        request_id=event.request_id, user_id=event.user_id,
        prefix=key.rsplit("/", 1)[0] if "/" in key else "", objects=["identity.json"]))


async def on_notification_requested(c: IdentityContainer, ctx: HandlerContext,
                                    event: UserNotificationRequested) -> None:
    """Mail the user the requested template (identity alone holds the address).

    An erased user gets only the erasure confirmation: an export link or a request update
    that was on its way when the erasure started is dropped.
    """
    if event.template != AFTER_ERASURE and await is_erased(ctx.session, event.user_id):
        log.info("notification for an erased user dropped", extra={"template": event.template})
        return
    email = (await ctx.session.execute(
        select(users.c.email).where(users.c.id == event.user_id))).scalar()
    if email is None:
        log.warning("notification for an unknown user dropped",
                    extra={"user_id": str(event.user_id), "template": event.template})
        return
    mail = notification_mail(c, event.template, event.params)
    if mail is None:
        log.warning("notification refused", extra={"user_id": str(event.user_id),
                                                    "template": event.template})
        return
    try:
        await c.mailer.send(email, mail)
    except Exception as exc:
        # Retried and parked by the kit as usual, but what it records (and logs) must not quote
        # the address: raise a scrubbed error without the original as cause or context.
        log_mail_failure(exc, user_id=event.user_id, subject=mail.subject)
        raise MailNotSent(smtp_code(exc)) from None


def notification_mail(c: IdentityContainer, template: str, params: dict[str, Any]) -> Mail | None:
    """The mail for ``template``, or None when it is unknown or lacks what it must carry."""
    request_link = c.link(f"/privacy/requests/{params.get('request_id', '')}")
    if template == "export_ready":
        return messages.export_ready(_own_link(c, params, ("download_url",)) or request_link,
                                     _moment(params.get("expires_at")))
    if template == "erasure_confirmation":
        retained = params.get("retained")
        return messages.erasure_confirmation(
            [i for i in retained if isinstance(i, dict)] if isinstance(retained, list) else [])
    if template == "request_update":
        return request_update_mail(params, request_link)
    if template == "marketing":
        withdraw = _own_link(c, params, WITHDRAW_PARAMS)
        if withdraw is None:
            return None  # never a marketing mail without its one-click withdrawal link
        return messages.marketing(str(params.get("subject", "News from AIFLUX"))[:200],
                                  str(params.get("body", ""))[:10_000], withdraw)
    return None


REQUEST_KINDS = {"access", "portability", "rectification", "erasure", "restriction",
                 "objection"}
EVENT_WORDS = {"received": "we received it", "in_progress": "we are working on it",
               "completed": "it is completed", "rejected": "it was rejected",
               "lifted": "it was lifted"}


def request_update_mail(params: dict[str, Any], link: str) -> Mail | None:
    """The mail about a privacy request: the answer, the reason and the dates it carries."""
    kind = str(params.get("request_type", ""))
    kind = kind if kind in REQUEST_KINDS else "privacy"
    event = str(params.get("event") or params.get("status") or "")
    reason = str(params.get("reason", ""))[:2000]
    if event == "decided" and params.get("outcome") in ("granted", "rejected"):
        return messages.request_decided(kind, params["outcome"] == "granted",
                                        str(params.get("answer", ""))[:5000], link)
    if event == "deadline_extended" and reason and params.get("due_at"):
        due_at = _moment(params["due_at"])
        return None if due_at is None else messages.request_extended(kind, due_at, reason, link)
    if event == "restriction_lifted" and reason:
        return messages.restriction_lifted(reason, link)
    if event in EVENT_WORDS:
        return messages.request_update(kind, EVENT_WORDS[event], link)
    return None  # never a mail that says nothing true


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


WITHDRAW_PARAMS = ("withdraw_url", "withdrawal_url", "unsubscribe_url")


def _own_link(c: IdentityContainer, params: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """A link from ``params``, only when it points under our own public URL."""
    base = c.settings.public_url.rstrip("/")
    for name in names:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("/"):
            return base + value
        if isinstance(value, str) and value.startswith(base + "/"):
            return value
    return None
