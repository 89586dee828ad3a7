"""Privacy's own retention sweep: consents of anonymous visitors that were never linked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiflux_kit.db import Database

from ..adapters.consents import delete_idle_anonymous
from ..adapters.peers import owner_sweeps
from ..domain.catalog import retention_rules
from ..domain.requests import add_months
from ..settings import PrivacySettings

ANONYMOUS_CONSENT_MONTHS = 13


async def expire_anonymous_consents(database: Database, now: datetime | None = None) -> dict[str, int]:
    """Delete consent records of visitors idle for 13 months and never linked to an account."""
    now = now or datetime.now(UTC)
    cutoff = add_months(now, -ANONYMOUS_CONSENT_MONTHS)
    async with database.transaction() as session:
        deleted = await delete_idle_anonymous(session, cutoff)
    return {"deleted": deleted}


async def rules_with_last_runs(
    settings: PrivacySettings, credentials: dict[str, str]
) -> list[dict[str, Any]]:
    """Every retention rule with the last run of its sweep, as its owner service reports it
    (asked with the operator's own credentials, so the owner audits the call too)."""
    rules = retention_rules()
    runs = {
        service: await owner_sweeps(getattr(settings, f"{service}_url"), service, credentials)
        for service in sorted({r["owner_service"] for r in rules})
    }
    return [
        {
            **rule,
            "last_run": runs[rule["owner_service"]].get(rule["sweep"], {}).get("last_run"),
            "reported": rule["sweep"] in runs[rule["owner_service"]],
        }
        for rule in rules
    ]
