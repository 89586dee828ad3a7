"""The retention rules privacy serves (§5) state the figures the services really enforce.

The rules are data in the privacy service; each figure is enforced by a setting of the service
that owns the data. Services never import each other, so this cross-service test is the one
place that holds the two together: changing a setting without the rule (or the reverse) fails.
"""

from __future__ import annotations

import re

import pytest
from aiflux_billing.settings import BillingSettings
from aiflux_identity.settings import IdentitySettings
from aiflux_kit.settings import ServiceSettings
from aiflux_privacy.domain.catalog import retention_rules
from aiflux_privacy.handlers.retention import ANONYMOUS_CONSENT_MONTHS
from aiflux_privacy.settings import PrivacySettings
from aiflux_storage.settings import StorageSettings

DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _parts(period: str) -> dict[str, int]:
    match = DURATION.match(period)
    assert match, f"not an ISO 8601 duration: {period}"
    names = ("years", "months", "days", "hours", "minutes", "seconds")
    return {n: int(v) for n, v in zip(names, match.groups(), strict=True) if v}


def _seconds(parts: dict[str, int]) -> int:
    assert not {"years", "months"} & parts.keys()
    return (
        parts.get("days", 0) * 86400
        + parts.get("hours", 0) * 3600
        + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0)
    )


def _default(settings: type, field: str) -> float:
    return settings.model_fields[field].default  # type: ignore[no-any-return]


ENFORCED = {
    # rule id: (the figure as the rule states it, the figure the owner enforces)
    "credit-holds": (lambda p: _seconds(p), _default(BillingSettings, "hold_ttl_s")),
    "account-data": (lambda p: p["days"], _default(IdentitySettings, "purge_after_days")),
    "security-logs": (
        lambda p: p["months"],
        round(_default(IdentitySettings, "security_log_retention_days") / 365 * 12),
    ),
    "payment-data": (lambda p: p["years"], _default(BillingSettings, "payment_retention_years")),
    "export-archives": (lambda p: p["days"], _default(StorageSettings, "export_ttl_days")),
    "anonymous-consents": (lambda p: p["months"], ANONYMOUS_CONSENT_MONTHS),
}


@pytest.mark.parametrize("rule_id", sorted(ENFORCED))
def test_a_retention_rule_states_the_enforced_figure(rule_id: str) -> None:
    rule = next(r for r in retention_rules() if r["id"] == rule_id)
    stated, enforced = ENFORCED[rule_id]
    assert stated(_parts(rule["period"])) == enforced, (rule_id, rule["period"])


def test_export_archives_and_event_messages_match_their_settings() -> None:
    assert _default(PrivacySettings, "export_retention_days") == _default(StorageSettings, "export_ttl_days")
    keep_days = _default(ServiceSettings, "outbox_keep_days")
    for rule in retention_rules():
        if rule["id"].startswith("event-messages-"):
            assert _parts(rule["period"]) == {"days": keep_days}, rule["id"]


def test_the_credit_hold_period_is_told_in_words_too() -> None:
    rule = next(r for r in retention_rules() if r["id"] == "credit-holds")
    hours = _default(BillingSettings, "hold_ttl_s") // 3600
    assert f"{hours} hours" in rule["period_text"]


def test_what_receipts_keep_cites_a_rule_with_the_same_legal_basis() -> None:
    from aiflux_billing.handlers import erasure as billing_privacy
    from aiflux_identity.handlers import erasure as identity_privacy

    declared = [
        (identity_privacy.ACCOUNT_RULE, identity_privacy.ACCOUNT_BASIS),
        (identity_privacy.SECURITY_RULE, identity_privacy.SECURITY_BASIS),
        (billing_privacy.PAYMENTS_RULE, billing_privacy.PAYMENTS_LEGAL_BASIS),
    ]
    rules = {r["id"]: r for r in retention_rules()}
    for rule_id, basis in declared:
        assert rules[rule_id]["legal_basis"] == basis, rule_id
