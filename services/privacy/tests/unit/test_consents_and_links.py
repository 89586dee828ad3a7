"""Core use cases without a database: consent state (off until consent), the one-click
withdrawal link (valid for exactly one user) and the erasure's status-link answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiflux_kit.domain_errors import Kind
from aiflux_privacy.bootstrap import PrivacyContainer
from aiflux_privacy.domain.consent import ConsentState, Purpose, current_state
from aiflux_privacy.domain.errors import InvalidLink
from aiflux_privacy.handlers import marketing, status_link
from aiflux_privacy.handlers.consents import state_view

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_analytics_stay_off_until_consent_and_the_newest_decision_stands() -> None:
    assert state_view("anonymous", {})["analytics_allowed"] is False
    ledger = [
        ConsentState(Purpose.ANALYTICS, True, NOW.replace(day=1)),
        ConsentState(Purpose.ANALYTICS, False, NOW.replace(day=2)),
        ConsentState(Purpose.MARKETING, True, NOW.replace(day=3)),
    ]
    view = state_view("user", current_state(ledger))
    assert view["analytics_allowed"] is False
    assert view["consents"]["marketing"]["granted"] is True


def test_a_withdrawal_link_is_valid_for_its_user_only(container: PrivacyContainer) -> None:
    secret = container.link_secret
    alice, bob = uuid.uuid4(), uuid.uuid4()
    url = marketing.withdraw_url("https://aiflux.example", alice, secret)
    signature = url.rsplit("sig=", 1)[1]
    marketing.check_link(alice, signature, secret)
    with pytest.raises(InvalidLink) as refused:
        marketing.check_link(bob, signature, secret)
    assert refused.value.kind is Kind.FORBIDDEN and refused.value.slug == "invalid-link"
    assert "<script>" not in marketing.withdrawal_page(alice, "<script>")


def test_an_unknown_status_link_looks_like_a_request_not_heard_of_yet() -> None:
    request_id = uuid.uuid4()
    answer = status_link.pending(request_id)
    assert answer["status"] == "pending" and answer["certificate"] is None
    assert status_link.token_hash("token") != "token"
