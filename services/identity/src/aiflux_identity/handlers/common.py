"""Pieces every identity handler uses: the container, client info, tokens, the security log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiflux_contracts import SessionRevoked
from aiflux_kit.auth import token_hash
from aiflux_kit.db import Database
from aiflux_kit.outbox import add_event
from aiflux_kit.service import Platform
from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.mail import Mail, Mailer, smtp_code
from ..adapters.orm import email_tokens, security_log, sessions
from ..domain.passwords import PasswordHasher
from ..settings import IdentitySettings

log = logging.getLogger(__name__)


Job = Callable[[], Awaitable[None]]


class BackgroundJobs:
    """A bounded queue of work done after the response, by a few tasks of this process.

    Requests whose answer must not tell whether an address has an account (forgot password,
    resend verification) hand *all* of the account-dependent work (lookup, token, mail) to this
    queue on every branch, so the request path does the same thing either way. When the queue
    is full the job is dropped (logged), again the same for every branch.
    """

    def __init__(self, maxsize: int = 1000, concurrency: int = 4) -> None:
        self._maxsize, self._concurrency = maxsize, concurrency
        self._queue: asyncio.Queue[Job] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False (and logged) when the queue is full."""
        queue = self._started()
        try:
            queue.put_nowait(job)
        except asyncio.QueueFull:
            log.warning("background job dropped: queue full")
            return False
        return True

    def _started(self) -> asyncio.Queue[Job]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            self._loop, self._queue = loop, asyncio.Queue(self._maxsize)
            self._tasks = {loop.create_task(self._run(self._queue))
                           for _ in range(self._concurrency)}
        return self._queue

    @staticmethod
    async def _run(queue: asyncio.Queue[Job]) -> None:
        while True:
            job = await queue.get()
            try:
                await job()
            except Exception as exc:
                log.warning("background job failed", extra={"error": type(exc).__name__})
            finally:
                queue.task_done()

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Wait (up to ``timeout_s``) for queued work, then stop the tasks (on shutdown)."""
        queue, tasks = self._queue, self._tasks
        self._queue, self._loop, self._tasks = None, None, set()
        if queue is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.join(), timeout_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class IdentityContainer:
    """What the identity handlers need, built once by bootstrap."""

    settings: IdentitySettings
    database: Database
    platform: Platform
    hasher: PasswordHasher
    mailer: Mailer
    jobs: BackgroundJobs = field(default_factory=BackgroundJobs)

    def link(self, path: str, **query: str) -> str:
        """An absolute link under the configured public URL (never the request's Host)."""
        from urllib.parse import urlencode

        url = self.settings.public_url.rstrip("/") + path
        return f"{url}?{urlencode(query)}" if query else url

    async def send_mail(self, to: str, mail: Mail, *, user_id: uuid.UUID | None = None) -> bool:
        """Send a transactional mail after the state change committed; False when it failed.

        A mail server outage must not turn a completed request into an error: the user can ask
        for the link again. The log names the user id only, never the address.
        """
        try:
            await self.mailer.send(to, mail)
        except Exception as exc:
            log_mail_failure(exc, user_id=user_id, subject=mail.subject)
            return False
        return True

    async def limit(self, scope: str, identifier: str, rule: str) -> None:
        """Count one attempt against a rate limit (429 with Retry-After when over)."""
        await self.platform.limiter.hit(f"identity:{scope}", identifier, rule)


def log_mail_failure(exc: BaseException, *, user_id: uuid.UUID | None, subject: str) -> None:
    """Log a failed send by exception type and SMTP code only: no message, no traceback (the
    SMTP client's exceptions quote the recipient address)."""
    log.warning("mail not sent", extra={"user_id": str(user_id) if user_id else None,
                                        "subject": subject, "error": type(exc).__name__,
                                        "smtp_code": smtp_code(exc)})


@dataclass(frozen=True)
class ClientInfo:
    """Who is on the other end of a request, for the security log and rate limits only."""

    ip: str | None = None
    user_agent: str | None = None


SYSTEM = ClientInfo()


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def new_secret() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


async def log_security_event(
    session: AsyncSession, event: str, user_id: uuid.UUID | None, client: ClientInfo,
    **detail: Any,
) -> None:
    """Add a security-log row: never a password or a token, only ids and outcomes."""
    await session.execute(insert(security_log).values(
        user_id=user_id, event=event, ip=client.ip,
        user_agent=(client.user_agent or "")[:512] or None, detail=detail))


async def issue_email_token(
    session: AsyncSession, user_id: uuid.UUID, purpose: str, ttl_s: int,
    new_email: str | None = None,
) -> str:
    """Store a single-use token (hashed) and return the plain token for the mail link."""
    token = new_secret()
    await session.execute(insert(email_tokens).values(
        token_hash=token_hash(token), user_id=user_id, purpose=purpose, new_email=new_email,
        expires_at=utcnow() + timedelta(seconds=ttl_s)))
    return token


RECOVERY_PURPOSES = ("reset", "email_change")


async def invalidate_email_tokens(
    session: AsyncSession, user_id: uuid.UUID, purposes: tuple[str, ...] = RECOVERY_PURPOSES,
) -> int:
    """Mark every unused token of ``user_id`` for ``purposes`` as used (in the caller's
    transaction), so a link mailed before a password reset, a password change, a suspension, a
    deletion or an address change can no longer take the account over."""
    result = await session.execute(
        update(email_tokens).where(email_tokens.c.user_id == user_id,
                                   email_tokens.c.purpose.in_(purposes),
                                   email_tokens.c.used_at.is_(None))
        .values(used_at=func.now()))
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_sessions(
    session: AsyncSession, user_id: uuid.UUID, *, keep_token_hash: str | None = None,
) -> int:
    """End every live session of ``user_id`` (but one) and tell the other services."""
    query = (update(sessions).where(sessions.c.user_id == user_id,
                                    sessions.c.revoked_at.is_(None))
             .values(revoked_at=func.now()).returning(sessions.c.token_hash))
    if keep_token_hash:
        query = query.where(sessions.c.token_hash != keep_token_hash)
    ended = (await session.execute(query)).scalars().all()
    if ended:
        await add_event(session, SessionRevoked(user_id=user_id, session_id_hash=None))
    return len(ended)

