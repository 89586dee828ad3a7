"""What an erasure certificate (and so the erasure mail) says is kept comes from the retention
rules (§5): the receipt names the rule; basis and period are the rule's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiflux_privacy.domain.erasure import certificate


def _step(retained: list[dict]) -> dict:
    return {
        "receipt": {"deleted": {}, "retained": retained},
        "verification": {},
        "receipt_at": None,
        "verified_at": None,
    }


def test_retained_items_take_basis_and_period_from_their_rule() -> None:
    payments = {
        "category": "payments",
        "count": 2,
        "retained_until": "2036-11-28",
        "legal_basis": "Art. 6(1)(f)",
        "retention_rule": "payment-data",
    }
    unruled = {
        "category": "mail_spool",
        "count": 1,
        "retained_until": "2027-01-05",
        "legal_basis": "Art. 6(1)(f)",
    }
    issued = certificate(
        uuid.uuid4(),
        "s" * 64,
        {"billing": _step([payments]), "identity": _step([unruled])},
        datetime.now(UTC),
    )
    by_category = {item["category"]: item for item in issued["retained"]}
    assert by_category["payments"]["legal_basis"] == "Art. 6(1)(c)"  # the rule's, not the typo
    assert by_category["payments"]["period"] == "10 years, as required by Italian tax law"
    assert by_category["payments"]["service"] == "billing"
    assert by_category["mail_spool"]["legal_basis"] == "Art. 6(1)(f)"
    assert by_category["mail_spool"]["service"] == "identity"
