"""Marketing campaigns: mail only users whose consent stands at send time, each mail with a
one-click withdrawal link that works without signing in."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from html import escape
from typing import Any
from urllib.parse import urlencode

from aiflux_contracts import UserNotificationRequested
from aiflux_kit.constant_time import equal
from aiflux_kit.erasure import is_erased
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.consents import consenting_to_marketing
from ..adapters.repositories import add_campaign
from ..domain.consent import Purpose
from ..domain.errors import InvalidLink
from .consents import consent_state, record_consent

WITHDRAW_PATH = "/v1/privacy/consents/marketing/withdraw"


def withdraw_signature(user_id: uuid.UUID, secret: str) -> str:
    """The signature that makes a withdrawal link valid for exactly one user."""
    message = f"withdraw:marketing:{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def withdraw_url(public_url: str, user_id: uuid.UUID, secret: str) -> str:
    """The one-click link put in every marketing mail."""
    query = urlencode({"user": str(user_id), "sig": withdraw_signature(user_id, secret)})
    return f"{public_url.rstrip('/')}{WITHDRAW_PATH}?{query}"


async def send_campaign(
    session: AsyncSession, admin_id: uuid.UUID, subject: str, body: str, public_url: str, secret: str
) -> dict[str, Any]:
    """Ask identity to mail the campaign to every user whose marketing consent stands now."""
    campaign_id = uuid.uuid4()
    recipients = await consenting_to_marketing(session)
    for user_id in recipients:
        await add_event(
            session,
            UserNotificationRequested(
                user_id=user_id,
                template="marketing",
                params={
                    "campaign_id": str(campaign_id),
                    "subject": subject,
                    "body": body,
                    "withdraw_url": withdraw_url(public_url, user_id, secret),
                },
            ),
        )
    await add_campaign(session, campaign_id, subject, len(recipients), admin_id)
    return {"id": str(campaign_id), "recipients": len(recipients)}


def check_link(user_id: uuid.UUID, signature: str, secret: str) -> None:
    """Refuse a withdrawal link that this service did not sign for ``user_id``."""
    if not equal(withdraw_signature(user_id, secret), signature):
        raise InvalidLink("This withdrawal link is not valid; sign in to change your consents.")


async def withdraw_by_link(session: AsyncSession, user_id: uuid.UUID, signature: str, secret: str) -> bool:
    """Withdraw marketing consent from a mail's link; False when it was already withdrawn."""
    check_link(user_id, signature, secret)
    if await is_erased(session, user_id):
        return False  # nothing to withdraw, and no consent row may name an erased user again
    entry = (await consent_state(session, user_id)).get(Purpose.MARKETING)
    if entry is None or not entry.granted:
        return False
    await record_consent(session, user_id, "user", Purpose.MARKETING, False, "mail-link")
    return True


def withdrawal_page(user_id: uuid.UUID, signature: str) -> str:
    """One button that withdraws marketing consent (the values are a UUID and hex)."""
    action = f"{WITHDRAW_PATH}?user={user_id}&sig={escape(signature, quote=True)}"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribe</title></head>"
        "<body><h1>Stop marketing mails from AIFLUX?</h1>"
        f"<form method='post' action='{action}'>"
        "<button type='submit'>Unsubscribe</button></form>"
        "<p>Service mails (security, receipts, your requests) are not affected.</p>"
        "</body></html>"
    )
