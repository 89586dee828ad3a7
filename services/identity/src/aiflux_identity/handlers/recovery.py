"""Password reset by mail, and password change while logged in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiflux_kit.auth import Principal, token_hash

from ..adapters import accounts
from ..adapters.credentials import (
    invalidate_email_tokens,
    issue_email_token,
    log_security_event,
    revoke_sessions,
)
from ..domain import messages
from ..domain.accounts import normalise_email
from ..domain.errors import RESET_LINK_REFUSED, InvalidEmail, InvalidToken, WrongPassword
from ..domain.passwords import check_password_rules
from .common import ClientInfo

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer


async def forgot_password(c: IdentityContainer, email: str, client: ClientInfo) -> None:
    """Mail a reset link when the address has an account; the answer never tells."""
    await c.limit("forgot-ip", client.ip or "-", c.settings.limit_forgot_ip)
    try:
        address = normalise_email(email)
    except InvalidEmail:
        return
    await c.limit("forgot-account", token_hash(address), c.settings.limit_forgot_account)
    # Known or not, the request only queues the same job: the lookup, the token and the mail
    # happen after the response, so its timing cannot tell whether the address has an account.
    c.jobs.submit(lambda: mail_reset_link(c, address, client))


async def mail_reset_link(c: IdentityContainer, address: str, client: ClientInfo) -> None:
    """The work behind ``forgot_password`` (in the background): mail a link if there is an
    account with ``address``, else nothing."""
    async with c.database.transaction() as session:
        user_id = await accounts.email_owner(session, address)
        if user_id is None:
            return
        token = await issue_email_token(session, user_id, "reset", c.settings.reset_token_ttl_s)
        await log_security_event(session, "password_reset_requested", user_id, client)
    await c.send_mail(
        address,
        messages.password_reset(c.link("/reset-password", token=token), c.settings.reset_token_ttl_s),
        user_id=user_id,
    )


async def reset_password(c: IdentityContainer, token: str, new_password: str, client: ClientInfo) -> None:
    """Use a reset token once: set the password and end every session (no login)."""
    await c.limit("reset-ip", client.ip or "-", c.settings.limit_reset_ip)
    key = token_hash(token)
    async with c.database.transaction() as session:
        user_id = await accounts.reset_token_owner(session, key)
    if user_id is None:
        raise _bad_token()
    await c.limit("reset-account", str(user_id), c.settings.limit_reset_account)
    check_password_rules(new_password)
    password_hash = await c.hasher.hash(new_password)
    async with c.database.transaction() as session:
        # The conditional update is the single point of truth: of concurrent uses, one wins.
        if not await accounts.use_token(session, key):
            raise _bad_token()
        if not await accounts.set_password_hash(session, user_id, password_hash, live_only=True):
            raise _bad_token()
        await revoke_sessions(session, user_id)
        # A pending address change (or another reset link) must not outlive the recovery.
        await invalidate_email_tokens(session, user_id)
        await log_security_event(session, "password_reset", user_id, client)


async def change_password(
    c: IdentityContainer, principal: Principal, current_password: str, new_password: str, client: ClientInfo
) -> None:
    """Change the password with the current one; every other session ends."""
    await require_password(c, principal, current_password)
    check_password_rules(new_password)
    password_hash = await c.hasher.hash(new_password)
    async with c.database.transaction() as session:
        await accounts.set_password_hash(session, principal.user_id, password_hash)
        await revoke_sessions(session, principal.user_id, keep_token_hash=principal.session_id_hash)
        await invalidate_email_tokens(session, principal.user_id)
        await log_security_event(session, "password_changed", principal.user_id, client)


async def require_password(c: IdentityContainer, principal: Principal, password: str) -> None:
    """Refuse (:class:`WrongPassword`) unless ``password`` is the caller's current password."""
    await c.limit("login-account", str(principal.user_id), c.settings.limit_login_account)
    async with c.database.transaction() as session:
        stored = await accounts.live_password_hash(session, principal.user_id)
    if not await c.hasher.verify(password, stored):
        raise WrongPassword


def _bad_token() -> InvalidToken:
    return InvalidToken(RESET_LINK_REFUSED)
