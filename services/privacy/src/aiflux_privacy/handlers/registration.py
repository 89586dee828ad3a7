"""Consents given at registration and later policy acceptances, from identity's events."""

from __future__ import annotations

from aiflux_contracts import PolicyAccepted, UserRegistered
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import is_erased

from ..domain.consent import Purpose
from .consents import link_anonymous, record_consent


async def on_user_registered(ctx: HandlerContext, event: UserRegistered, consent_id_secret: str) -> None:
    """Record policy acceptance and the marketing choice; link the visitor's consent cookie
    (only an anonymous consent id privacy issued and nobody linked yet; anything else, such as
    another user's id, is ignored). A registration that arrives after the account's erasure
    records nothing."""
    if await is_erased(ctx.session, event.user_id):
        return
    await record_consent(
        ctx.session,
        event.user_id,
        "user",
        Purpose.PRIVACY_POLICY,
        True,
        "registration",
        event.accepted_policy_version,
    )
    await record_consent(
        ctx.session, event.user_id, "user", Purpose.MARKETING, event.marketing_opt_in, "registration"
    )
    if event.anonymous_consent_id is not None:
        await link_anonymous(ctx.session, event.anonymous_consent_id, event.user_id, consent_id_secret)


async def on_policy_accepted(ctx: HandlerContext, event: PolicyAccepted) -> None:
    """Record the acceptance of a (new) policy version (not for an erased user)."""
    if await is_erased(ctx.session, event.user_id):
        return
    await record_consent(
        ctx.session, event.user_id, "user", Purpose.PRIVACY_POLICY, True, "acceptance", event.version
    )
