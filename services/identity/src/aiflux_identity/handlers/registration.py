"""Registration and email verification (including confirmation of a changed address)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from aiflux_contracts import UserRegistered, UserUpdated
from aiflux_kit.auth import token_hash
from aiflux_kit.outbox import add_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import accounts
from ..adapters.accounts import NewAccount
from ..adapters.credentials import (
    invalidate_email_tokens,
    issue_email_token,
    log_security_event,
    revoke_sessions,
)
from ..domain import messages
from ..domain.accounts import check_minimum_age, normalise_email, normalise_username
from ..domain.errors import (
    VERIFY_LINK_REFUSED,
    EmailTaken,
    InvalidEmail,
    InvalidToken,
    UsernameTaken,
)
from ..domain.passwords import check_password_rules
from .common import ClientInfo, utcnow
from .policy import acceptable_version

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer


@dataclass(frozen=True)
class Registration:
    """What a new user submits."""

    username: str
    email: str
    password: str
    birth_date: date
    accept_privacy_policy_version: str
    marketing_opt_in: bool
    anonymous_consent_id: uuid.UUID | None = None


async def register(c: IdentityContainer, form: Registration, client: ClientInfo) -> None:
    """Create the account, or mail the owner when the address is taken (same answer)."""
    await c.limit("register-ip", client.ip or "-", c.settings.limit_register_ip)
    username = normalise_username(form.username)
    email = normalise_email(form.email)
    await c.limit("register-account", token_hash(email), c.settings.limit_register_account)
    check_minimum_age(form.birth_date, utcnow().date(), c.settings.minimum_age)
    check_password_rules(form.password)
    # Hash before looking anything up, so a taken address costs the same time as a free one.
    password_hash = await c.hasher.hash(form.password)
    async with c.database.transaction() as session:
        version = await acceptable_version(
            session,
            form.accept_privacy_policy_version,
            "to register",
            timedelta(seconds=c.settings.policy_switch_grace_s),
        )
        if await accounts.username_taken(session, username):
            raise UsernameTaken()
        if await accounts.email_owner(session, email) is not None:
            await c.send_mail(email, messages.address_already_registered(c.link("/forgot-password")))
            return
    await _create_account(c, form, username, email, password_hash, version, client)


async def _create_account(
    c: IdentityContainer,
    form: Registration,
    username: str,
    email: str,
    password_hash: str,
    version: str,
    client: ClientInfo,
) -> None:
    user_id, today = uuid.uuid4(), utcnow().date()
    try:
        async with c.database.transaction() as session:
            await accounts.create_account(
                session,
                NewAccount(
                    id=user_id,
                    username=username,
                    email=email,
                    password_hash=password_hash,
                    accepted_policy_version=version,
                    accepted_policy_at=utcnow(),
                    marketing_opt_in=form.marketing_opt_in,
                    age_confirmed_on=today,
                ),
            )
            token = await issue_email_token(session, user_id, "verify", c.settings.verification_token_ttl_s)
            await log_security_event(session, "registered", user_id, client)
            await add_event(
                session,
                UserRegistered(
                    user_id=user_id,
                    accepted_policy_version=version,
                    marketing_opt_in=form.marketing_opt_in,
                    age_confirmed_on=today,
                    anonymous_consent_id=form.anonymous_consent_id,
                ),
            )
    except IntegrityError:
        # A concurrent registration won the race for the name or the address.
        async with c.database.transaction() as session:
            if await accounts.username_taken(session, username):
                raise UsernameTaken() from None
        return
    await c.send_mail(
        email,
        messages.verify_email(c.link("/verify-email", token=token), c.settings.verification_token_ttl_s),
        user_id=user_id,
    )


async def verify_email(
    c: IdentityContainer, token: str, client: ClientInfo, *, keep_session_hash: str | None = None
) -> None:
    """Use a verification (or address-change) token once.

    An address change ends every session of the account but ``keep_session_hash`` (the
    confirming caller's own, if it belongs to the account) and every other pending link.
    """
    await c.limit("verify-ip", client.ip or "-", c.settings.limit_verify_ip)
    notify_old: str | None = None
    async with c.database.transaction() as session:
        used = await accounts.use_verification_token(session, token_hash(token))
        if used is None:
            raise _bad_token()
        account = await accounts.address_of(session, used.user_id)
        if account is None or account.deleted_at is not None:
            raise _bad_token()
        if used.purpose == "verify":
            await accounts.mark_verified(session, used.user_id)
            await log_security_event(session, "email_verified", used.user_id, client)
        else:
            await _apply_new_email(session, used.user_id, used.new_email, client, keep_session_hash)
            notify_old = account.email
    if notify_old:
        await c.send_mail(notify_old, messages.email_changed_notice())


async def _apply_new_email(
    session: AsyncSession,
    user_id: uuid.UUID,
    new_email: str | None,
    client: ClientInfo,
    keep_session_hash: str | None,
) -> None:
    if new_email is None:  # an address-change token always carries one; never trust it blindly
        raise _bad_token()
    if await accounts.email_owner(session, new_email) not in (None, user_id):
        raise EmailTaken
    await accounts.set_email(session, user_id, new_email)
    # The address is the recovery channel: whoever held a session or a link sent to the old
    # address (reset, another pending change) loses it with the change.
    await revoke_sessions(session, user_id, keep_token_hash=keep_session_hash)
    await invalidate_email_tokens(session, user_id)
    await log_security_event(session, "email_changed", user_id, client)
    await add_event(session, UserUpdated(user_id=user_id, fields=["email"]))


def _bad_token() -> InvalidToken:
    return InvalidToken(VERIFY_LINK_REFUSED)


async def resend_verification(c: IdentityContainer, email: str, client: ClientInfo) -> None:
    """Mail a fresh verification link to an unverified account; the answer never tells."""
    await c.limit("verify-ip", client.ip or "-", c.settings.limit_verify_ip)
    try:
        address = normalise_email(email)
    except InvalidEmail:
        return
    await c.limit("register-account", token_hash(address), c.settings.limit_register_account)
    # The same job on every branch; the account-dependent work runs after the response.
    c.jobs.submit(lambda: mail_verification_link(c, address))


async def mail_verification_link(c: IdentityContainer, address: str) -> None:
    """The work behind ``resend_verification`` (in the background)."""
    async with c.database.transaction() as session:
        user_id = await accounts.email_owner(session, address, unverified_only=True)
        if user_id is None:
            return
        token = await issue_email_token(session, user_id, "verify", c.settings.verification_token_ttl_s)
    await c.send_mail(
        address,
        messages.verify_email(c.link("/verify-email", token=token), c.settings.verification_token_ttl_s),
        user_id=user_id,
    )
