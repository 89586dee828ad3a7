"""Erasure in identity, on fakes: what is deleted, what the receipt keeps and why, and what
the verification still finds."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from aiflux_contracts import ErasureVerificationRequested, UserDeleted
from aiflux_identity.adapters.audit_log import SecurityEvent
from aiflux_identity.adapters.mail import Mail
from aiflux_identity.adapters.records import SessionRecord
from aiflux_identity.handlers import erasure

from .conftest import NOW, Published, account

pytestmark = pytest.mark.unit

USER, OTHER = uuid.uuid4(), uuid.uuid4()


def holding_data(fakes) -> None:  # type: ignore[no-untyped-def]
    data = fakes.data
    data.accounts[USER] = account(USER, deleted_at=NOW)
    data.session_rows += [
        SessionRecord(uuid.uuid4(), uid, NOW, NOW, None, "10.0.0.1", "ua") for uid in (USER, USER, OTHER)
    ]
    data.tokens[USER] = 2
    data.messages[USER] = 3
    data.log.append(SecurityEvent(1, USER, "login_succeeded", None, None, {}, NOW))
    fakes.mailer.sent += [
        ("ada@example.com", Mail("Verify", "t", "h")),
        ("other@example.com", Mail("Verify", "t", "h")),
    ]


async def test_user_deleted_erases_and_the_receipt_names_each_rule(identity, fakes) -> None:
    holding_data(fakes)
    ctx = Published()
    await erasure.on_user_deleted(
        identity,
        ctx,
        UserDeleted(  # type: ignore[arg-type]
            user_id=USER, request_id=uuid.uuid4(), reason="user_request"
        ),
    )

    [receipt] = ctx.events
    assert receipt.deleted == {"sessions": 2, "email_tokens": 2, "mails": 1, "outbox_events": 3}
    assert fakes.data.session_rows[0].user_id == OTHER  # the other user's session stays
    assert [to for to, _ in fakes.mailer.sent] == ["other@example.com"]
    kept = {item.category: item for item in receipt.retained}
    assert (kept["disabled_account"].retention_rule, kept["disabled_account"].legal_basis) == (
        "account-data",
        "Art. 6(1)(b)",
    )
    assert kept["disabled_account"].retained_until == (NOW + timedelta(days=30)).date()
    assert kept["security_log"].count == 1
    assert kept["security_log"].retention_rule == "security-logs"
    assert kept["erasure_confirmation_mail"].retention_rule == "mail-spool"
    assert USER in fakes.data.erased  # the guard ran


async def test_a_re_driven_erasure_finds_nothing_more_to_delete(identity, fakes) -> None:
    holding_data(fakes)
    for _ in range(2):
        ctx = Published()
        await erasure.on_user_deleted(
            identity,
            ctx,
            UserDeleted(  # type: ignore[arg-type]
                user_id=USER, request_id=uuid.uuid4(), reason="user_request"
            ),
        )
    assert ctx.events[0].deleted == {"sessions": 0, "email_tokens": 0, "mails": 0, "outbox_events": 0}


async def test_verification_counts_what_remains(identity, fakes) -> None:
    holding_data(fakes)
    await erasure.on_user_deleted(
        identity,
        Published(),
        UserDeleted(  # type: ignore[arg-type]
            user_id=USER, request_id=uuid.uuid4(), reason="user_request"
        ),
    )
    ctx = Published()
    await erasure.on_verification_requested(
        identity,
        ctx,  # type: ignore[arg-type]
        ErasureVerificationRequested(request_id=uuid.uuid4(), user_id=USER),
    )
    [verified] = ctx.events
    assert verified.remaining == {
        "disabled_account": 1,
        "sessions": 0,
        "email_tokens": 0,
        "security_log": 1,
        "outbox_events": 0,
        "mails": 0,
    }


def test_the_security_log_is_kept_at_least_until_today() -> None:
    from aiflux_identity.adapters.records import SecurityLogSpan

    long_ago = NOW - timedelta(days=400)
    kept = erasure.retained_items(
        None,
        SecurityLogSpan(rows=4, newest=long_ago),
        keeps_mail=False,
        purge_after_days=30,
        log_days=365,
        spool_days=7,
        today=date(2026, 11, 20),
    )
    assert [(i.category, i.count, i.retained_until) for i in kept] == [
        ("security_log", 4, date(2026, 11, 20))
    ]
