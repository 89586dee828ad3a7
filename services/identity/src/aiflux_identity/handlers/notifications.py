"""Mails the privacy service asks identity to send (identity alone holds the address)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiflux_contracts import UserNotificationRequested
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import is_erased

from ..adapters.accounts import email_of
from ..adapters.mail import Mail, MailNotSent, smtp_code
from ..domain import messages
from .common import log_mail_failure

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer

log = logging.getLogger(__name__)

AFTER_ERASURE = "erasure_confirmation"
"""The one mail an erased user still gets (sent after the certificate, before the purge)."""


async def on_notification_requested(
    c: IdentityContainer, ctx: HandlerContext, event: UserNotificationRequested
) -> None:
    """Mail the user the requested template (identity alone holds the address).

    An erased user gets only the erasure confirmation: an export link or a request update
    that was on its way when the erasure started is dropped.
    """
    if event.template != AFTER_ERASURE and await is_erased(ctx.session, event.user_id):
        log.info("notification for an erased user dropped", extra={"template": event.template})
        return
    email = await email_of(ctx.session, event.user_id)
    if email is None:
        log.warning(
            "notification for an unknown user dropped",
            extra={"user_id": str(event.user_id), "template": event.template},
        )
        return
    mail = notification_mail(c, event.template, event.params)
    if mail is None:
        log.warning("notification refused", extra={"user_id": str(event.user_id), "template": event.template})
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
        return messages.export_ready(
            _own_link(c, params, ("download_url",)) or request_link, _moment(params.get("expires_at"))
        )
    if template == "erasure_confirmation":
        retained = params.get("retained")
        return messages.erasure_confirmation(
            [i for i in retained if isinstance(i, dict)] if isinstance(retained, list) else []
        )
    if template == "request_update":
        return request_update_mail(params, request_link)
    if template == "marketing":
        withdraw = _own_link(c, params, WITHDRAW_PARAMS)
        if withdraw is None:
            return None  # never a marketing mail without its one-click withdrawal link
        return messages.marketing(
            str(params.get("subject", "News from AIFLUX"))[:200],
            str(params.get("body", ""))[:10_000],
            withdraw,
        )
    return None


REQUEST_KINDS = {"access", "portability", "rectification", "erasure", "restriction", "objection"}
EVENT_WORDS = {
    "received": "we received it",
    "in_progress": "we are working on it",
    "completed": "it is completed",
    "rejected": "it was rejected",
    "lifted": "it was lifted",
}


def request_update_mail(params: dict[str, Any], link: str) -> Mail | None:
    """The mail about a privacy request: the answer, the reason and the dates it carries."""
    kind = str(params.get("request_type", ""))
    kind = kind if kind in REQUEST_KINDS else "privacy"
    event = str(params.get("event") or params.get("status") or "")
    reason = str(params.get("reason", ""))[:2000]
    if event == "decided" and params.get("outcome") in ("granted", "rejected"):
        return messages.request_decided(
            kind, params["outcome"] == "granted", str(params.get("answer", ""))[:5000], link
        )
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
    base: str = c.settings.public_url.rstrip("/")
    for name in names:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("/"):
            return base + value
        if isinstance(value, str) and value.startswith(base + "/"):
            return value
    return None
