"""Password and age rules (no I/O)."""

from __future__ import annotations

import asyncio
from datetime import date

import bcrypt
import pytest
from aiflux_identity.adapters.hashing import PasswordHasher
from aiflux_identity.domain.accounts import check_minimum_age, normalise_email
from aiflux_identity.domain.passwords import check_password_rules
from aiflux_kit.domain_errors import DomainError


def _slug(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.slug


def test_password_rules() -> None:
    assert _slug(lambda: check_password_rules("short7!")) == "password-too-short"
    assert _slug(lambda: check_password_rules("Password1")) == "password-too-common"
    assert _slug(lambda: check_password_rules("qwertyuiop")) == "password-too-common"
    check_password_rules("x" * 64)  # 64 characters are allowed
    check_password_rules("y" * 72)
    assert _slug(lambda: check_password_rules("z" * 73)) == "password-too-long"
    assert _slug(lambda: check_password_rules("é" * 37)) == "password-too-long"  # 74 bytes


async def test_hashes_use_the_configured_cost_and_never_truncate() -> None:
    hasher = PasswordHasher(rounds=5, workers=2)
    try:
        stored = await hasher.hash("a" * 72)
        assert stored.startswith("$2b$05$")
        assert await hasher.verify("a" * 72, stored)
        assert not await hasher.verify("a" * 72 + "b", stored)  # no silent truncation
        assert not await hasher.verify("a" * 71, stored)
        assert not await hasher.verify("anything", None)  # unknown account
        # Hashing runs in worker threads: the loop keeps serving meanwhile.
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await asyncio.gather(*(hasher.hash("pass phrase one") for _ in range(4)))
        task.cancel()
        assert ticks > 10
    finally:
        hasher.close()
    assert bcrypt.checkpw(b"a" * 72, stored.encode())


def test_age_gate() -> None:
    today = date(2026, 5, 9)
    check_minimum_age(date(2010, 5, 9), today, 16)  # 16 today
    assert _slug(lambda: check_minimum_age(date(2010, 5, 10), today, 16)) == "under-minimum-age"
    assert _slug(lambda: check_minimum_age(date(2027, 1, 1), today, 16)) == "invalid-birth-date"


def test_email_normalised() -> None:
    assert normalise_email(" Alice" + "@Example.COM ") == "alice" + "@example.com"
    assert _slug(lambda: normalise_email("not an address")) == "invalid-email"
