"""Which mails identity agrees to write for privacy (no I/O): never one that says nothing
true, never marketing without its withdrawal link, never a link to another site."""

from __future__ import annotations

import pytest
from aiflux_identity.handlers.notifications import notification_mail

pytestmark = pytest.mark.unit


def test_request_updates_state_what_they_are_about(identity) -> None:
    extended = notification_mail(
        identity,
        "request_update",
        {
            "request_type": "access",
            "event": "deadline_extended",
            "due_at": "2027-01-15T00:00:00+00:00",
            "reason": "Many systems to search.",
        },
    )
    assert extended is not None and "Many systems to search." in extended.text
    assert (
        notification_mail(
            identity, "request_update", {"request_type": "access", "event": "deadline_extended"}
        )
        is None
    )
    assert notification_mail(identity, "request_update", {"event": "mystery"}) is None


def test_marketing_needs_our_own_withdrawal_link(identity) -> None:
    assert notification_mail(identity, "marketing", {"subject": "News", "body": "Hi"}) is None
    assert (
        notification_mail(
            identity,
            "marketing",
            {"subject": "News", "body": "Hi", "withdraw_url": "https://elsewhere.example/withdraw"},
        )
        is None
    )
    mail = notification_mail(
        identity, "marketing", {"subject": "News", "body": "Hi", "withdraw_url": "/consent/withdraw"}
    )
    assert mail is not None
    assert mail.unsubscribe_url == "https://aiflux.example/consent/withdraw"


def test_an_unknown_template_is_not_sent(identity) -> None:
    assert notification_mail(identity, "surprise", {}) is None
