"""Who is calling: end users (session cookie + CSRF) and other services (signed tokens).

End users are known by the opaque session token identity set at login. Every service asks a
:class:`SessionVerifier` about it: identity's own database in-process, or identity's
introspection route over HTTP. Both keep answers in a short, bounded :class:`SessionCache`
that ``SessionRevoked``, ``UserDeleted`` and ``UserSuspended`` clear at once in every API
process (a per-process broadcast subscription, :func:`session_end_listener`), and that the
process which ends a session clears the moment its transaction commits
(:func:`forget_sessions_on_commit`), so a logout, revocation or erasure takes effect everywhere
at once. No service trusts an identity header a client could set.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import httpx
import jwt
from aiflux_contracts import (
    PolicyAccepted,
    SessionRevoked,
    UnknownEvent,
    UserDeleted,
    UserSuspended,
    decode,
)
from cachetools import TTLCache
from fastapi import Depends, Request
from pydantic import ValidationError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from .bus import Delivery
from .constant_time import equal
from .errors import Problem

_audit_log = logging.getLogger("aiflux.audit")
_log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


def session_cookie_name(public_url: str) -> str:
    """``__Host-`` prefixed when served over HTTPS (binds the cookie to the exact host)."""
    return "__Host-aiflux_session" if public_url.startswith("https://") else "aiflux_session"


def token_hash(token: str) -> str:
    """sha256 of a secret token, as stored and as carried in events."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """An authenticated end user."""

    user_id: uuid.UUID
    session_id_hash: str
    csrf_token_hash: str
    roles: frozenset[str] = frozenset()
    policy_accepted: bool = True
    via_cookie: bool = True

    @property
    def is_admin(self) -> bool:
        """True for holders of the admin role."""
        return "admin" in self.roles


class SessionVerifier(Protocol):
    """Answers who owns a session token, or None when it is unknown, expired or revoked."""

    async def verify(self, session_token: str) -> Principal | None:
        """Look the token up."""

    def forget(self, user_id: uuid.UUID, session_id_hash: str | None) -> None:
        """Drop cached answers for one session (or all of a user's when the hash is None)."""

    # A verifier that caches answers sets ``caches_sessions = True``: every process then
    # subscribes it to the session-end broadcast (see Runtime.start).


SESSION_CACHE_SIZE = 10_000

_caches: weakref.WeakSet[SessionCache] = weakref.WeakSet()
"""Every session cache of this process, for :func:`forget_sessions_on_commit`."""


class SessionCache:
    """Answers about session tokens (by token hash), each kept until its own deadline and at
    most ``ttl`` seconds; bounded (least recently used go first).

    :meth:`forget` wins over a lookup running at the same time: a verifier takes
    :attr:`epoch` before asking and :meth:`put` drops the answer if anything was forgotten
    meanwhile, so an answer read just before a revocation committed is never kept after it.
    Answers for holders of a role (operators) are not kept at all: roles change from the
    command line, outside any process's view, and a revoked role must count at once.
    """

    def __init__(self, ttl: float, maxsize: int = SESSION_CACHE_SIZE) -> None:
        self.ttl = ttl
        self._entries: TTLCache[str, tuple[Principal | None, float]] = TTLCache(maxsize=maxsize, ttl=ttl)
        self._epoch = 0
        _caches.add(self)

    @property
    def epoch(self) -> int:
        """Changes whenever something is forgotten; pass it back to :meth:`put`."""
        return self._epoch

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> tuple[bool, Principal | None]:
        """``(True, answer)`` for a cached, still valid answer; ``(False, None)`` otherwise."""
        found = self._entries.get(key)
        if found is None:
            return False, None
        principal, deadline = found
        if time.monotonic() >= deadline:
            self._entries.pop(key, None)
            return False, None
        return True, principal

    def put(self, key: str, principal: Principal | None, epoch: int, valid_for: float | None = None) -> None:
        """Keep ``principal`` for at most ``valid_for`` seconds (and the TTL), unless something
        was forgotten since ``epoch`` was read."""
        if epoch != self._epoch:
            return
        if principal is not None and principal.roles:
            return  # operators are asked about every time: a role revoked counts at once
        lifetime = self.ttl if valid_for is None else min(valid_for, self.ttl)
        if lifetime > 0:
            self._entries[key] = (principal, time.monotonic() + lifetime)

    def forget(self, user_id: uuid.UUID, session_id_hash: str | None) -> None:
        """Drop one session (or every session of ``user_id`` when the hash is None)."""
        self._epoch += 1
        if session_id_hash is not None:
            self._entries.pop(session_id_hash, None)
            return
        for key, (principal, _) in list(self._entries.items()):
            if principal is not None and principal.user_id == user_id:
                self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop every answer."""
        self._epoch += 1
        self._entries.clear()


def forget_sessions_on_commit(
    session: AsyncSession, user_id: uuid.UUID | None, session_id_hash: str | None = None
) -> None:
    """When ``session``'s transaction commits, make every session cache of this process forget
    that session (or every session of ``user_id`` when the hash is None; every session of
    everyone when ``user_id`` is None too).

    Called by whoever ends sessions or changes what a principal says (identity), beside the
    event that tells the other processes: this process must not answer from its cache between
    the commit and the event's broadcast. Nothing happens on rollback.
    """

    def forget(_: Any) -> None:
        for cache in list(_caches):
            if user_id is None:
                cache.clear()
            else:
                cache.forget(user_id, session_id_hash)

    event.listen(session.sync_session, "after_commit", forget, once=True)


class RemoteSessionVerifier:
    """Asks identity's introspection route, caching answers for ``ttl`` seconds.

    The cache is bounded (at most ``maxsize`` sessions, least recently used go first) and is
    cleared at once for a revoked session or a deleted/suspended user by
    :func:`session_end_listener`, which every process serving API requests subscribes to.
    """

    caches_sessions = True
    """Tells the runtime to subscribe :func:`session_end_listener` for this verifier."""

    def __init__(
        self, client: httpx.AsyncClient, ttl: float = 5.0, maxsize: int = SESSION_CACHE_SIZE
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.cache = SessionCache(ttl, maxsize)

    async def verify(self, session_token: str) -> Principal | None:
        """Introspect ``session_token`` (cached briefly)."""
        key = token_hash(session_token)
        hit, cached = self.cache.get(key)
        if hit:
            return cached
        epoch = self.cache.epoch
        response = await self.client.post(
            "/internal/identity/sessions/introspect", json={"session_token": session_token}
        )
        if response.status_code == 404:
            principal = None
        elif response.is_success:
            body = response.json()
            principal = Principal(
                user_id=uuid.UUID(body["user_id"]),
                session_id_hash=key,
                csrf_token_hash=body["csrf_token_hash"],
                roles=frozenset(body.get("roles", [])),
                policy_accepted=body.get("policy_accepted", True),
            )
        else:
            raise Problem(
                503,
                "identity-unavailable",
                "Service unavailable",
                "Sign-in could not be checked right now; please retry.",
            )
        self.cache.put(key, principal, epoch)
        return principal

    def forget(self, user_id: uuid.UUID, session_id_hash: str | None) -> None:
        """Evict cached sessions of ``user_id`` (one, or all when the hash is None)."""
        self.cache.forget(user_id, session_id_hash)


SESSION_END_EVENTS = (SessionRevoked, UserDeleted, UserSuspended, PolicyAccepted)
"""Events after which a cached answer about a session must not be trusted any more (ended
sessions; and a newly accepted policy, which turns the user's ``policy_accepted`` true)."""


def caches_sessions(verifier: SessionVerifier | None) -> bool:
    """True for a verifier that keeps answers and so must hear of ended sessions."""
    return bool(getattr(verifier, "caches_sessions", False))


def session_end_listener(verifier: SessionVerifier) -> Callable[[Delivery], Awaitable[None]]:
    """A broadcast handler that makes ``verifier`` forget ended sessions at once.

    ``SessionRevoked`` drops that session (or all of the user's); ``UserDeleted``,
    ``UserSuspended`` and ``PolicyAccepted`` drop every session of the user (the next request
    asks again, and sees the acceptance at once). Every process serving API requests gets
    its own copy of these events (a broadcast, not a work queue), so no replica keeps trusting
    a session for the rest of its cache TTL.
    """

    async def on_message(delivery: Delivery) -> None:
        try:
            _, event = decode(delivery.body)
        except (ValidationError, UnknownEvent, ValueError):
            _log.warning("undecodable session event skipped", extra={"routing_key": delivery.routing_key})
            return
        if isinstance(event, SessionRevoked):
            verifier.forget(event.user_id, event.session_id_hash)
        elif isinstance(event, UserDeleted | UserSuspended | PolicyAccepted):
            verifier.forget(event.user_id, None)

    return on_message


def _session_token(request: Request) -> tuple[str | None, bool]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None, False
    # Only the name this deployment sets: over HTTPS an unprefixed cookie could have been
    # planted by a sibling subdomain or plain HTTP (what the __Host- prefix rules out).
    names = (
        [request.app.state.session_cookie]
        if hasattr(request.app.state, "session_cookie")
        else ["__Host-aiflux_session", "aiflux_session"]
    )
    for name in names:
        if name in request.cookies:
            return request.cookies[name], True
    return None, False


def _check_csrf(request: Request, principal: Principal) -> None:
    if request.method in SAFE_METHODS or not principal.via_cookie:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not equal(principal.csrf_token_hash, token_hash(sent) if sent else None):
        raise Problem(
            403,
            "csrf-token-missing",
            "CSRF token required",
            f"State-changing requests made with the session cookie must carry the "
            f"{CSRF_HEADER} header returned at login.",
        )


async def _authenticate(request: Request) -> Principal:
    token, via_cookie = _session_token(request)
    if not token:
        raise Problem(401, "unauthenticated", "Authentication required", "Please log in.")
    verifier: SessionVerifier = request.app.state.session_verifier
    principal = await verifier.verify(token)
    if principal is None:
        raise Problem(
            401,
            "session-invalid",
            "Session ended",
            "Your session has ended or was revoked; please log in again.",
        )
    if not via_cookie:
        principal = Principal(
            principal.user_id,
            principal.session_id_hash,
            principal.csrf_token_hash,
            principal.roles,
            principal.policy_accepted,
            via_cookie=False,
        )
    _check_csrf(request, principal)
    request.state.principal = principal
    return principal


async def current_user_any_policy(request: Request) -> Principal:
    """The caller, even when they still have to accept a new privacy-policy version."""
    return await _authenticate(request)


async def current_user(request: Request) -> Principal:
    """The caller, who must have accepted the current privacy policy."""
    principal = await _authenticate(request)
    if not principal.policy_accepted:
        raise Problem(
            403,
            "policy-acceptance-required",
            "New privacy policy",
            "The privacy policy changed substantially; accept the new version "
            "(POST /v1/account/policy-acceptance) to continue.",
        )
    return principal


async def current_admin(request: Request) -> Principal:
    """The caller, who must hold the admin role. Every admin call is audited (once a request):
    to the ``aiflux.audit`` log, and to the owning service's audit sink if it has one
    (identity's writes its security log)."""
    principal = await _authenticate(request)
    if not principal.is_admin:
        raise Problem(403, "admin-required", "Forbidden", "This route is for operators.")
    await _audit_admin_call(request, principal)
    return principal


AdminAuditSink = Callable[[Principal, Request], Awaitable[None]]


async def _audit_admin_call(request: Request, principal: Principal) -> None:
    if getattr(request.state, "admin_audited", False):
        return
    request.state.admin_audited = True
    path = request.url.path
    _audit_log.info(
        "admin call", extra={"user_id": str(principal.user_id), "method": request.method, "path": path}
    )
    parts = path.split("/")
    service = parts[3] if len(parts) > 3 and parts[1:3] == ["v1", "ops"] else None
    sink = getattr(request.app.state, "admin_audit_sinks", {}).get(service)
    if sink is not None:
        await sink(principal, request)


CurrentUser = Annotated[Principal, Depends(current_user)]
"""The authenticated end user (policy accepted, CSRF checked on cookie state changes)."""

CurrentUserAnyPolicy = Annotated[Principal, Depends(current_user_any_policy)]
"""The authenticated end user, before re-accepting a changed policy."""

CurrentAdmin = Annotated[Principal, Depends(current_admin)]
"""An authenticated operator (admin role)."""


# --- service-to-service -----------------------------------------------------------------------

SERVICE_TOKEN_TTL_S = 60


def pair_key(service_key: str, audience: str) -> str:
    """The key a service signs its tokens for ``audience`` with, derived from its own key.

    A callee is given only the pair keys of its callers *for itself* (``trusted_callers``), so
    holding them lets it mint tokens for nobody else: least privilege between services.
    """
    return hmac.new(
        service_key.encode(), f"aiflux-service-token:{audience}".encode(), hashlib.sha256
    ).hexdigest()


def mint_service_token(caller: str, audience: str, signing_key: str) -> str:
    """A short-lived token proving ``caller`` to ``audience``, signed (HS256) with the pair key
    of that caller and audience (see :func:`pair_key`)."""
    now = int(time.time())
    claims = {"iss": caller, "aud": audience, "iat": now, "exp": now + SERVICE_TOKEN_TTL_S}
    return jwt.encode(claims, signing_key, algorithm="HS256")


@dataclass(frozen=True)
class InternalAuth:
    """Guards a service's internal routes: only listed callers, each with its own key."""

    service: str
    trusted_callers: dict[str, str]

    def require(self, *allowed: str) -> object:
        """A dependency admitting only ``allowed`` callers (least privilege per route)."""

        async def _dependency(request: Request) -> str:
            auth = request.headers.get("authorization", "")
            token = auth[7:] if auth.lower().startswith("bearer ") else ""
            try:
                caller = jwt.decode(token, options={"verify_signature": False}).get("iss", "")
                key = self.trusted_callers.get(caller) if caller in allowed else None
                if key is None:
                    raise jwt.InvalidTokenError("caller not allowed")
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["HS256"],
                    audience=self.service,
                    issuer=caller,
                    options={"require": ["exp", "iat", "iss", "aud"]},
                )
                if claims["exp"] - claims["iat"] > SERVICE_TOKEN_TTL_S:
                    raise jwt.InvalidTokenError("token lives too long")
            except jwt.PyJWTError:
                raise Problem(
                    403, "service-forbidden", "Forbidden", "This internal route is not open to the caller."
                ) from None
            return str(caller)

        return Depends(_dependency)


class ServiceTokenAuth(httpx.Auth):
    """httpx auth that signs each request to ``audience`` as ``caller`` (given the caller's own
    service key; each request is signed with the pair key for ``audience``)."""

    def __init__(self, caller: str, audience: str, key: str) -> None:
        self._caller, self._audience, self._key = caller, audience, key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add a fresh service token."""
        token = mint_service_token(self._caller, self._audience, pair_key(self._key, self._audience))
        request.headers["Authorization"] = f"Bearer {token}"
        yield request
