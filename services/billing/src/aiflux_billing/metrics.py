"""Billing's gauges for ``/metrics``: credit holds outstanding (read when Prometheus scrapes)."""

from __future__ import annotations

from aiflux_kit.db import Database
from aiflux_kit.metrics import MetricsReader, gauge
from prometheus_client.core import Metric

from .adapters.ledger import CreditLedger


def hold_metrics(database: Database) -> MetricsReader:
    """The reader of billing's gauges."""

    async def read() -> list[Metric]:
        async with database.transaction() as session:
            holds, credits = await CreditLedger(session).outstanding()
        return [
            gauge(
                "aiflux_billing_holds_outstanding",
                "Credit holds of generations not yet captured or voided",
                values=holds,
            ),
            gauge("aiflux_billing_held_credits", "Credits reserved by outstanding holds", values=credits),
        ]

    return read
