"""Accounts and their mailed-link tokens in PostgreSQL, within the caller's transaction:
lookups, creation, and the conditional updates that decide races. Returns typed values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from aiflux_kit.auth import forget_sessions_on_commit
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .orm import email_tokens, users
from .records import AccountProfile


@dataclass(frozen=True)
class NewAccount:
    """What registration stores for a new account."""

    id: uuid.UUID
    username: str
    email: str
    password_hash: str
    accepted_policy_version: str
    accepted_policy_at: datetime
    marketing_opt_in: bool
    age_confirmed_on: date


@dataclass(frozen=True)
class UsedEmailToken:
    """A verification or address-change token just used: whose, what for, the new address."""

    user_id: uuid.UUID
    purpose: str
    new_email: str | None


@dataclass(frozen=True)
class AccountAddress:
    """An account's address and, when disabled, since when."""

    email: str
    deleted_at: datetime | None


async def username_taken(
    session: AsyncSession, username: str, by_other_than: uuid.UUID | None = None
) -> bool:
    """Whether a live account (other than ``by_other_than``) has ``username`` (any case)."""
    query = select(users.c.id).where(
        func.lower(users.c.username) == username.lower(), users.c.deleted_at.is_(None)
    )
    if by_other_than is not None:
        query = query.where(users.c.id != by_other_than)
    return (await session.execute(query)).first() is not None


async def email_owner(
    session: AsyncSession, email: str, *, unverified_only: bool = False
) -> uuid.UUID | None:
    """The live account with ``email`` (only an unverified one if ``unverified_only``)."""
    query = select(users.c.id).where(users.c.email == email, users.c.deleted_at.is_(None))
    if unverified_only:
        query = query.where(users.c.email_verified.is_(False))
    owner: uuid.UUID | None = (await session.execute(query)).scalar()
    return owner


async def create_account(session: AsyncSession, account: NewAccount) -> None:
    """Insert the account (IntegrityError when the name or address was taken meanwhile)."""
    await session.execute(
        insert(users).values(
            id=account.id,
            username=account.username,
            email=account.email,
            password_hash=account.password_hash,
            accepted_policy_version=account.accepted_policy_version,
            accepted_policy_at=account.accepted_policy_at,
            marketing_opt_in=account.marketing_opt_in,
            age_confirmed_on=account.age_confirmed_on,
        )
    )


async def use_verification_token(session: AsyncSession, hashed: str) -> UsedEmailToken | None:
    """Mark a live verification or address-change token used; None when none matches."""
    row = (
        await session.execute(
            update(email_tokens)
            .where(
                email_tokens.c.token_hash == hashed,
                email_tokens.c.purpose.in_(("verify", "email_change")),
                email_tokens.c.used_at.is_(None),
                email_tokens.c.expires_at > func.now(),
            )
            .values(used_at=func.now())
            .returning(email_tokens.c.user_id, email_tokens.c.purpose, email_tokens.c.new_email)
        )
    ).first()
    return None if row is None else UsedEmailToken(row.user_id, row.purpose, row.new_email)


async def reset_token_owner(session: AsyncSession, hashed: str) -> uuid.UUID | None:
    """The user of a live, unused reset token."""
    owner: uuid.UUID | None = (
        await session.execute(
            select(email_tokens.c.user_id).where(
                email_tokens.c.token_hash == hashed,
                email_tokens.c.purpose == "reset",
                email_tokens.c.used_at.is_(None),
                email_tokens.c.expires_at > func.now(),
            )
        )
    ).scalar()
    return owner


async def use_token(session: AsyncSession, hashed: str) -> bool:
    """Mark a live token used; False when another use won (the single point of truth)."""
    won = (
        await session.execute(
            update(email_tokens)
            .where(
                email_tokens.c.token_hash == hashed,
                email_tokens.c.used_at.is_(None),
                email_tokens.c.expires_at > func.now(),
            )
            .values(used_at=func.now())
            .returning(email_tokens.c.user_id)
        )
    ).first()
    return won is not None


async def pending_email(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """The newest address awaiting confirmation (a live address-change link), if any."""
    pending: str | None = (
        await session.execute(
            select(email_tokens.c.new_email)
            .where(
                email_tokens.c.user_id == user_id,
                email_tokens.c.purpose == "email_change",
                email_tokens.c.used_at.is_(None),
                email_tokens.c.expires_at > func.now(),
            )
            .order_by(email_tokens.c.created_at.desc())
            .limit(1)
        )
    ).scalar()
    return pending


async def live_profile(session: AsyncSession, user_id: uuid.UUID) -> AccountProfile | None:
    """What a live (not disabled) account holds about the user; None when there is none."""
    row = (
        await session.execute(select(users).where(users.c.id == user_id, users.c.deleted_at.is_(None)))
    ).first()
    if row is None:
        return None
    return AccountProfile(
        user_id=row.id,
        username=row.username,
        email=row.email,
        email_verified=row.email_verified,
        pending_email=await pending_email(session, user_id),
        created_at=row.created_at,
        accepted_policy_version=row.accepted_policy_version,
        accepted_policy_at=row.accepted_policy_at,
        marketing_opt_in_at_registration=row.marketing_opt_in,
        age_confirmed_on=row.age_confirmed_on,
        roles=sorted(row.roles),
    )


async def address_of(session: AsyncSession, user_id: uuid.UUID) -> AccountAddress | None:
    """The account's address and disable time (None: no such account)."""
    row = (
        await session.execute(select(users.c.email, users.c.deleted_at).where(users.c.id == user_id))
    ).first()
    return None if row is None else AccountAddress(row.email, row.deleted_at)


async def email_of(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """The account's address (disabled or not); None when the account is gone."""
    email: str | None = (await session.execute(select(users.c.email).where(users.c.id == user_id))).scalar()
    return email


async def username_of(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """The account's username (disabled or not); None when the account is gone."""
    name: str | None = (await session.execute(select(users.c.username).where(users.c.id == user_id))).scalar()
    return name


async def live_password_hash(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """The stored password hash of a live account."""
    stored: str | None = (
        await session.execute(
            select(users.c.password_hash).where(users.c.id == user_id, users.c.deleted_at.is_(None))
        )
    ).scalar()
    return stored


async def mark_verified(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The account's address is confirmed."""
    await session.execute(update(users).where(users.c.id == user_id).values(email_verified=True))


async def set_email(session: AsyncSession, user_id: uuid.UUID, email: str) -> None:
    """Replace the address with a confirmed new one."""
    await session.execute(update(users).where(users.c.id == user_id).values(email=email, email_verified=True))


async def set_username(session: AsyncSession, user_id: uuid.UUID, username: str) -> None:
    """Rename the account."""
    await session.execute(update(users).where(users.c.id == user_id).values(username=username))


async def set_password_hash(
    session: AsyncSession, user_id: uuid.UUID, password_hash: str, *, live_only: bool = False
) -> bool:
    """Store a new password hash; False when no (live, if ``live_only``) account matched."""
    query = update(users).where(users.c.id == user_id)
    if live_only:
        query = query.where(users.c.deleted_at.is_(None))
    updated = (await session.execute(query.values(password_hash=password_hash).returning(users.c.id))).first()
    return updated is not None


async def record_policy_acceptance(
    session: AsyncSession, user_id: uuid.UUID, version: str, at: datetime
) -> None:
    """Record that the user accepted ``version`` at ``at`` (cached sessions of the user are
    forgotten on commit: their next request sees the acceptance)."""
    await session.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(accepted_policy_version=version, accepted_policy_at=at)
    )
    forget_sessions_on_commit(session, user_id)


async def disable(session: AsyncSession, user_id: uuid.UUID, request_id: uuid.UUID) -> bool:
    """Disable a live account for erasure ``request_id``; False when already disabled or gone."""
    disabled = (
        await session.execute(
            update(users)
            .where(users.c.id == user_id, users.c.deleted_at.is_(None))
            .values(deleted_at=func.now(), deletion_request_id=request_id)
            .returning(users.c.id)
        )
    ).first()
    return disabled is not None


async def suspend(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Suspend the account (keeping an earlier suspension's time); False when there is none."""
    row = (
        await session.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(suspended_at=func.coalesce(users.c.suspended_at, func.now()))
            .returning(users.c.id)
        )
    ).first()
    return row is not None
