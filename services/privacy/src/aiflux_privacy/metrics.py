"""Privacy's gauges for ``/metrics``: data-subject requests open, due soon and overdue by type;
erasures in progress and stalled. Read when Prometheus scrapes (aiflux_kit.metrics)."""

from __future__ import annotations

from aiflux_kit.db import Database
from aiflux_kit.metrics import MetricsReader, gauge
from prometheus_client.core import Metric
from sqlalchemy import text

from .domain.requests import OPEN, RequestType, Status

DUE_SOON_DAYS = 3
"""The alert's horizon: a request due within this many days still needs an answer."""

_BY_TYPE = text(
    "SELECT type, count(*) AS open,"
    " count(*) FILTER (WHERE due_at < now()) AS overdue,"
    " count(*) FILTER (WHERE due_at >= now() AND due_at < now() + make_interval(days => :days))"
    " AS due_soon"
    " FROM privacy_request WHERE status = ANY(:open) GROUP BY type"
)

# An erasure waits for the services' receipts (in_progress) and then their verification.
_ERASURES = text(
    "SELECT count(*) AS running,"
    " count(*) FILTER (WHERE progress_at < now() - make_interval(secs => :stall)) AS stalled"
    " FROM privacy_request WHERE type = 'erasure' AND status = ANY(:running)"
)


def request_metrics(database: Database, stall_after_s: float) -> MetricsReader:
    """The reader of privacy's gauges; an erasure with no progress for ``stall_after_s`` is
    stalled (the same threshold the re-drive sweep uses)."""

    async def read() -> list[Metric]:
        async with database.transaction() as session:
            rows = (
                await session.execute(_BY_TYPE, {"days": DUE_SOON_DAYS, "open": [str(s) for s in OPEN]})
            ).all()
            erasures = (
                await session.execute(
                    _ERASURES,
                    {"stall": stall_after_s, "running": [str(Status.IN_PROGRESS), str(Status.VERIFYING)]},
                )
            ).one()
        counts = {(str(t),): (0, 0, 0) for t in RequestType}
        counts.update({(r.type,): (r.open, r.overdue, r.due_soon) for r in rows})
        return [
            gauge(
                "aiflux_privacy_requests_open",
                "Data-subject requests not yet answered",
                ["type"],
                {k: v[0] for k, v in counts.items()},
            ),
            gauge(
                "aiflux_privacy_requests_overdue",
                "Open requests past their due date",
                ["type"],
                {k: v[1] for k, v in counts.items()},
            ),
            gauge(
                "aiflux_privacy_requests_due_soon",
                f"Open requests due within {DUE_SOON_DAYS} days",
                ["type"],
                {k: v[2] for k, v in counts.items()},
            ),
            gauge(
                "aiflux_privacy_erasures_in_progress",
                "Erasures waiting for services' receipts or verification",
                values=erasures.running,
            ),
            gauge(
                "aiflux_privacy_erasures_stalled",
                "Erasures with no progress for longer than the re-drive threshold",
                values=erasures.stalled,
            ),
        ]

    return read
