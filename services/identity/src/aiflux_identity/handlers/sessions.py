"""Login, logout, the session list, and the database-backed session verifier."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from aiflux_contracts import SessionRevoked
from aiflux_kit.auth import Principal, SessionCache, token_hash
from aiflux_kit.outbox import add_event

from ..adapters import login_sessions
from ..adapters.credentials import log_security_event, new_secret
from ..adapters.login_sessions import Lifetime, NewSession
from ..adapters.records import LoginCandidate, SessionSummary
from ..domain.accounts import normalise_email
from ..domain.errors import (
    AccountSuspended,
    EmailNotVerified,
    InvalidCredentials,
    InvalidEmail,
    NotFound,
)
from .common import ClientInfo, utcnow

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie value and the CSRF token (shown once)."""

    user_id: uuid.UUID
    session_token: str
    csrf_token: str


async def login(c: IdentityContainer, login_name: str, password: str, client: ClientInfo) -> SignedIn:
    """Check the password (same cost for unknown logins) and open a session."""
    await c.limit("login-ip", client.ip or "-", c.settings.limit_login_ip)
    # Keyed on the login as typed (normalised), never on the account it resolves to: a limit
    # shared by a username and an address would tell which address belongs to which name.
    await c.limit("login-name", login_key(login_name), c.settings.limit_login_account)
    account = await _find_login(c, login_name)
    ok = await c.hasher.verify(password, account.password_hash if account else None)
    async with c.database.transaction() as session:
        if not ok or account is None:
            await log_security_event(session, "login_failed", account.id if account else None, client)
            failed = True
        else:
            failed = False
    if failed or account is None:
        raise InvalidCredentials
    if account.suspended_at is not None:
        raise AccountSuspended
    if not account.email_verified:
        raise EmailNotVerified
    return await _open_session(c, account.id, client)


def login_key(login_name: str) -> str:
    """The rate-limit key of a login string: a hash of its normalised form (no account id)."""
    name = login_name.strip()
    if "@" in name:
        try:
            key: str = token_hash("email:" + normalise_email(name))
            return key
        except InvalidEmail:
            pass
    key = token_hash("name:" + name.lower())
    return key


async def _find_login(c: IdentityContainer, login_name: str) -> LoginCandidate | None:
    name = login_name.strip()
    try:
        by_email = normalise_email(name) if "@" in name else None
    except InvalidEmail:
        by_email = None
    async with c.database.read() as session:  # one statement: no transaction around it
        if by_email:
            return await login_sessions.find_login(session, email=by_email)
        return await login_sessions.find_login(session, username=name)


async def _open_session(c: IdentityContainer, user_id: uuid.UUID, client: ClientInfo) -> SignedIn:
    token, csrf = new_secret(), new_secret()
    async with c.database.transaction() as session:
        await login_sessions.open_session(
            session,
            NewSession(
                user_id=user_id,
                token_hash=token_hash(token),
                csrf_token_hash=token_hash(csrf),
                ip=client.ip,
                user_agent=(client.user_agent or "")[:512] or None,
            ),
        )
        await log_security_event(session, "login_succeeded", user_id, client)
    return SignedIn(user_id, token, csrf)


async def logout(c: IdentityContainer, principal: Principal, client: ClientInfo) -> None:
    """End the caller's session."""
    async with c.database.transaction() as session:
        await login_sessions.revoke_by_token(session, principal.session_id_hash)
        await log_security_event(session, "logout", principal.user_id, client)
        await add_event(
            session, SessionRevoked(user_id=principal.user_id, session_id_hash=principal.session_id_hash)
        )


def _lifetime(c: IdentityContainer) -> Lifetime:
    return Lifetime(
        idle=timedelta(seconds=c.settings.session_idle_timeout_s),
        absolute=timedelta(seconds=c.settings.session_absolute_timeout_s),
    )


async def list_sessions(c: IdentityContainer, principal: Principal) -> list[SessionSummary]:
    """The caller's live sessions, newest first."""
    async with c.database.transaction() as session:
        return await login_sessions.live_summaries(
            session, principal.user_id, principal.session_id_hash, _lifetime(c), utcnow()
        )


async def revoke_session(
    c: IdentityContainer, principal: Principal, session_id: uuid.UUID, client: ClientInfo
) -> None:
    """End one of the caller's sessions."""
    async with c.database.transaction() as session:
        ended = await login_sessions.revoke_of_user(session, session_id, principal.user_id)
        if ended is None:
            raise NotFound("session")
        await log_security_event(
            session, "session_revoked", principal.user_id, client, session_id=str(session_id)
        )
        await add_event(session, SessionRevoked(user_id=principal.user_id, session_id_hash=ended))


class DbSessionVerifier:
    """Identity's own answer to "who owns this session token": one query (the session, its
    account and the user's policy standing together), kept in a short :class:`SessionCache`.

    The cache is safe because whatever changes an answer clears it: ending sessions and
    accepting the policy forget them in this process on commit (the adapters call
    ``forget_sessions_on_commit``), other processes hear the broadcast events, and an answer is
    never kept past the session's idle or absolute expiry or the next scheduled policy change.
    Roles changed from the command line show within ``session_cache_ttl_s``.
    """

    caches_sessions = True
    """Tells the runtime to subscribe this cache to the session-end broadcast."""

    def __init__(self, container: IdentityContainer) -> None:
        self._c = container
        self.cache = SessionCache(container.settings.session_cache_ttl_s)

    async def verify(self, session_token: str) -> Principal | None:
        """The live session's principal (cached briefly), or None."""
        key = token_hash(session_token)
        hit, cached = self.cache.get(key)
        if hit:
            return cached
        epoch = self.cache.epoch
        found = await read_session(self._c, key)
        if found is None:
            return None
        principal, valid_for = found
        self.cache.put(key, principal, epoch, valid_for)
        return principal

    def forget(self, user_id: uuid.UUID, session_id_hash: str | None) -> None:
        """Drop cached answers for one session (or all of a user's)."""
        self.cache.forget(user_id, session_id_hash)


async def read_session(c: IdentityContainer, key: str) -> tuple[Principal, float] | None:
    """Read the live session with token hash ``key`` now (no cache; one autocommit query),
    refreshing its idle timer now and then: its principal, and for how many seconds that
    answer holds at most (its idle and absolute expiry, the next scheduled policy change)."""
    now, lifetime = utcnow(), _lifetime(c)
    async with c.database.read() as session:
        owner = await login_sessions.live_owner(session, key, lifetime, now)
    if owner is None:
        return None
    last_seen = owner.last_seen_at
    if last_seen < now - timedelta(seconds=c.settings.session_touch_interval_s):
        async with c.database.transaction() as session:
            await login_sessions.touch(session, owner.session_id, now)
        last_seen = now
    ends = [last_seen + lifetime.idle, owner.created_at + lifetime.absolute]
    if owner.policy_changes_at is not None:
        ends.append(owner.policy_changes_at)
    principal = Principal(
        user_id=owner.user_id,
        session_id_hash=key,
        csrf_token_hash=owner.csrf_token_hash,
        roles=frozenset(owner.roles),
        policy_accepted=owner.policy_accepted,
    )
    return principal, (min(ends) - now).total_seconds()
