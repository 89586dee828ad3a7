"""``/metrics``: the health an operator watches, read from the running services.

Requests are counted by route template (no ids or tokens in labels); the outbox, the consumers'
queues and parking queues, data-subject requests, erasures, credit holds and provider breakers
are gauges read when Prometheus scrapes.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import yaml
from aiflux_kit.testing import TestSessions, eventually
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

SERVICES = ["privacy", "billing", "generation"]
MONITORING = Path(__file__).resolve().parents[1] / "deploy/k8s/base/monitoring"


TARGET_LABELS = {"job", "instance", "namespace", "service", "pod", "container", "endpoint"}


def _monitoring_exprs() -> list[str]:
    rules = yaml.safe_load((MONITORING / "rules.yaml").read_text())
    exprs = [r["expr"] for g in rules["spec"]["groups"] for r in g["rules"]]
    dashboard = json.loads((MONITORING / "dashboards/aiflux.json").read_text())
    return exprs + [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def monitored_label_names() -> set[str]:
    """Every label the rules and the dashboard group or filter by."""
    found: set[str] = set()
    for expr in _monitoring_exprs():
        for group in re.findall(r"by \(([^)]*)\)", expr):
            found |= {label.strip() for label in group.split(",")}
        found |= set(re.findall(r"[{,]\s*([a-z_]+)\s*=~?", expr))
    return found


def monitored_metric_names() -> set[str]:
    """Every metric the alert rules and the Grafana dashboard of deploy/k8s query."""
    return {name for expr in _monitoring_exprs() for name in re.findall(r"\baiflux_[a-z0-9_]+", expr)}


async def scrape(client: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of ``/metrics`` by (name, labels)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def sql(stack: Any, service: str, statement: str, **params: Any) -> None:
    async with stack.unit(service).database.transaction() as session:
        await session.execute(text(statement), params)


async def test_metrics_show_requests_by_route_messaging_and_domain_health(stack_factory):
    sessions = TestSessions()
    async with stack_factory(services=SERVICES, platform_overrides={"session_verifier": sessions}) as stack:
        user_id, headers = sessions.sign_in()
        filed = await stack.client.post("/v1/privacy/requests", json={"type": "access"}, headers=headers)
        assert filed.status_code == 202, filed.text
        request_id = filed.json()["id"]
        assert (
            await stack.client.get(f"/v1/privacy/requests/{request_id}", headers=headers)
        ).status_code == 200
        # The access request is a week late; an erasure has made no progress for two hours.
        await sql(
            stack,
            "privacy",
            "UPDATE privacy_request SET due_at = now() - interval '7 days' WHERE id = :id",
            id=request_id,
        )
        await sql(
            stack,
            "privacy",
            "INSERT INTO privacy_request (id, user_id, type, status, due_at, progress_at)"
            " VALUES (:id, :user, 'erasure', 'in_progress', now() + interval '2 days',"
            " now() - interval '2 hours')",
            id=uuid.uuid4(),
            user=uuid.uuid4(),
        )
        await sql(
            stack,
            "billing",
            "INSERT INTO hold (id, generation_id, user_id, credits, status, expires_at)"
            " VALUES (:id, :gen, :user, 7, 'held', now() + interval '1 hour')",
            id=uuid.uuid4(),
            gen=uuid.uuid4(),
            user=user_id,
        )

        # Billing's export consumer cannot reach storage (not in this stack): after its retries
        # the ExportRequested message is parked, and /metrics says so.
        async def parked() -> bool:
            samples = await scrape(stack.client)
            return (
                value(samples, "aiflux_queue_parked", service_name="billing", consumer="privacy-export") == 1
            )

        await eventually(parked, timeout=30)

        response = await stack.client.get("/metrics")
        samples = await scrape(stack.client)

    families = list(text_string_to_metric_families(response.text))
    exported = {f.name for f in families} | {s.name for f in families for s in f.samples}
    assert monitored_metric_names() - exported == set()
    # Prometheus attaches these to every scraped series; a metric label of the same name would
    # be renamed to exported_<name> and break the rules' grouping.
    labels = {label for f in families for s in f.samples for label in s.labels}
    assert labels & TARGET_LABELS == set()
    assert monitored_label_names() <= labels | {"le"}

    assert request_id not in response.text and str(user_id) not in response.text
    assert (
        value(
            samples,
            "aiflux_http_requests_total",
            method="GET",
            route="/v1/privacy/requests/{request_id}",
            status="200",
        )
        == 1
    )
    assert (
        value(
            samples, "aiflux_http_request_duration_seconds_count", method="POST", route="/v1/privacy/requests"
        )
        == 1
    )
    for service in SERVICES:
        assert value(samples, "aiflux_outbox_backlog", service_name=service) is not None
        assert value(samples, "aiflux_outbox_oldest_age_seconds", service_name=service) is not None
    assert value(samples, "aiflux_queue_depth", service_name="billing", consumer="privacy-export") == 0
    assert value(samples, "aiflux_privacy_requests_open", type="access") == 1
    assert value(samples, "aiflux_privacy_requests_overdue", type="access") == 1
    assert value(samples, "aiflux_privacy_requests_overdue", type="erasure") == 0
    assert value(samples, "aiflux_privacy_requests_due_soon", type="erasure") == 1
    assert value(samples, "aiflux_privacy_erasures_in_progress") == 1
    assert value(samples, "aiflux_privacy_erasures_stalled") == 1
    assert value(samples, "aiflux_billing_holds_outstanding") == 1
    assert value(samples, "aiflux_billing_held_credits") == 7
    assert value(samples, "aiflux_generation_provider_breaker_open", provider="local") == 0
    readers = {dict(k[1])["reader"]: v for k, v in samples.items() if k[0] == "aiflux_metrics_reader_failed"}
    assert set(readers) == {"outbox", "queues", "privacy.0", "billing.0", "generation.0"}
    assert set(readers.values()) == {0}


async def test_a_path_no_route_matches_is_not_a_label(stack_factory):
    sessions = TestSessions()
    async with stack_factory(
        services=["privacy"], platform_overrides={"session_verifier": sessions}
    ) as stack:
        secret = uuid.uuid4().hex
        assert (await stack.client.get(f"/v1/nothing/{secret}")).status_code == 404
        response = await stack.client.get("/metrics")
    assert secret not in response.text
    assert 'route="unmatched",status="404"' in response.text
