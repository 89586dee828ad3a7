"""In-memory fakes for identity's handlers, handed to ``bootstrap.build`` (no PostgreSQL, no
broker, no storage, no SMTP)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiflux_identity.adapters.audit_log import SecurityEvent
from aiflux_identity.adapters.mail import Mail
from aiflux_identity.adapters.records import AccountRecord, SecurityLogSpan, SessionRecord
from aiflux_identity.bootstrap import IdentityContainer, build
from aiflux_identity.settings import IdentitySettings
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.service import Platform

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@dataclass
class FakeUserData:
    """One user's data in memory, as the SQL repository would hand it over."""

    accounts: dict[uuid.UUID, AccountRecord] = field(default_factory=dict)
    password_hashes: dict[uuid.UUID, str] = field(default_factory=dict)
    session_rows: list[SessionRecord] = field(default_factory=list)
    tokens: dict[uuid.UUID, int] = field(default_factory=dict)
    log: list[SecurityEvent] = field(default_factory=list)
    erased: set[uuid.UUID] = field(default_factory=set)
    messages: dict[uuid.UUID, int] = field(default_factory=dict)

    def __call__(self, session: Any) -> FakeUserData:
        return self  # one "transaction" for every call

    async def guard(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        self.erased.add(user_id)

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        return user_id in self.erased

    async def addresses(self, user_id: uuid.UUID) -> set[str]:
        account = self.accounts.get(user_id)
        return {account.email} if account else set()

    async def delete_sessions(self, user_id: uuid.UUID) -> int:
        before = len(self.session_rows)
        self.session_rows = [s for s in self.session_rows if s.user_id != user_id]
        return before - len(self.session_rows)

    async def delete_email_tokens(self, user_id: uuid.UUID) -> int:
        return self.tokens.pop(user_id, 0)

    async def forget_messages(self, user_id: uuid.UUID) -> int:
        return self.messages.pop(user_id, 0)

    async def disabled_at(self, user_id: uuid.UUID) -> datetime | None:
        account = self.accounts.get(user_id)
        return account.deleted_at if account else None

    async def security_log_span(self, user_id: uuid.UUID) -> SecurityLogSpan:
        rows = [e for e in self.log if e.user_id == user_id]
        return SecurityLogSpan(len(rows), max((e.created_at for e in rows), default=None))

    async def remaining(self, user_id: uuid.UUID) -> dict[str, int]:
        return {
            "disabled_account": int(user_id in self.accounts),
            "sessions": sum(s.user_id == user_id for s in self.session_rows),
            "email_tokens": self.tokens.get(user_id, 0),
            "security_log": sum(e.user_id == user_id for e in self.log),
            "outbox_events": self.messages.get(user_id, 0),
        }

    async def account(self, user_id: uuid.UUID) -> AccountRecord | None:
        return self.accounts.get(user_id)

    async def sessions(self, user_id: uuid.UUID) -> list[SessionRecord]:
        return [s for s in self.session_rows if s.user_id == user_id]

    async def security_log(self, user_id: uuid.UUID) -> list[SecurityEvent]:
        return sorted((e for e in self.log if e.user_id == user_id), key=lambda e: e.created_at)


@dataclass
class FakeMailer:
    """Keeps what it sends, like the embedded ``.eml`` spool."""

    keeps_copies: bool = True
    sent: list[tuple[str, Mail]] = field(default_factory=list)

    async def send(self, to: str, mail: Mail) -> None:
        self.sent.append((to, mail))

    async def forget_recipient(self, to: str) -> int:
        before = len(self.sent)
        self.sent = [(a, m) for a, m in self.sent if a != to]
        return before - len(self.sent)

    async def count_for(self, to: str) -> int:
        return sum(a == to for a, _ in self.sent)

    async def forget_older_than(self, age: timedelta) -> int:
        return 0


@dataclass
class FakeExportParts:
    """Storage's export route: keeps the parts; ``cancelled`` answers like its 410."""

    parts: dict[str, bytes] = field(default_factory=dict)
    cancelled: bool = False

    async def put(self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: bytes) -> str | None:
        if self.cancelled:
            return None
        key = f"exports/{request_id}/{name}"
        self.parts[key] = body
        return key


class FakeHasher:
    """No bcrypt threads: the unit tier never checks a password."""

    def close(self) -> None:
        pass


class Published:
    """A handler context without a transaction: collects what the handler publishes."""

    def __init__(self) -> None:
        self.session = None
        self.events: list[Any] = []

    async def publish(self, event: Any) -> Any:
        self.events.append(event)
        return SimpleNamespace(event_id=uuid.uuid4())


def account(user_id: uuid.UUID, *, deleted_at: datetime | None = None) -> AccountRecord:
    """An account record as the repository returns it (no password hash)."""
    return AccountRecord(
        id=user_id,
        username="ada",
        email="ada@example.com",
        email_verified=True,
        roles=[],
        accepted_policy_version="2026-01",
        accepted_policy_at=NOW,
        marketing_opt_in=False,
        age_confirmed_on=date(2026, 1, 2),
        created_at=NOW,
        suspended_at=None,
        deleted_at=deleted_at,
        deletion_request_id=None,
    )


@pytest.fixture
def fakes(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(data=FakeUserData(), mailer=FakeMailer(), parts=FakeExportParts())


@pytest.fixture
def identity(fakes: SimpleNamespace, tmp_path: Path) -> IdentityContainer:
    """The container built by bootstrap, with every adapter replaced by a fake."""
    platform = Platform(
        mode="embedded",
        broker=None,  # type: ignore[arg-type]
        limiter=RateLimiter.from_url(None),
        data_dir=tmp_path,
    )
    unit = build(
        platform,
        IdentitySettings(public_url="https://aiflux.example"),
        database=object(),
        hasher=FakeHasher(),
        mailer=fakes.mailer,
        export_parts=fakes.parts,
        user_data=fakes.data,
    )
    container: IdentityContainer = unit.container
    return container
