"""Monitoring: every process is scraped, the alert rules and the dashboard are well formed, and
every metric they name is one the code exports (aiflux_kit.metrics and the services' readers).

The Prometheus Operator's custom resources are not schema-validated offline
(custom_resources.py), so their structure is checked here, like the other operators' resources.
"""

from __future__ import annotations

import json
import re

from rendered_manifests import REPO, SERVICES, Doc, named, of_kind, pod_labels, pod_spec
from test_edges import Pod, _pods, allowed

PARTS = ("api", "worker", "relay")
REQUIRED_ALERTS = {
    "AifluxOutboxBacklogOld",
    "AifluxMessagesParked",
    "AifluxDataSubjectRequestDueSoon",
    "AifluxDataSubjectRequestOverdue",
    "AifluxErasureStalled",
}
_METRIC = re.compile(r"\baiflux_[a-z0-9_]+")
_DEFINED = re.compile(r"\b(Counter|Histogram|gauge)\(\s*\"(aiflux_[a-z0-9_]+)\"")


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _listening_port(deployment: Doc) -> int:
    """The port the process serves on, from its command line (--port / --health-port)."""
    args = pod_spec(deployment)["containers"][0]["args"]
    for flag in ("--port", "--health-port"):
        if flag in args:
            return int(args[args.index(flag) + 1])
    raise AssertionError(f"{deployment['metadata']['name']}: no port on its command line")


def test_every_process_of_every_service_is_scraped_at_metrics(docs: list[Doc]) -> None:
    services = of_kind(docs, "Service")
    for service in SERVICES:
        for part in PARTS:
            monitor = named(docs, "ServiceMonitor", f"{service}-{part}")
            selector = monitor["spec"]["selector"]["matchLabels"]
            assert selector["app.kubernetes.io/name"] == service
            (target,) = [s for s in services if _selects(selector, s["metadata"]["labels"])]
            deployment = named(docs, "Deployment", f"{service}-{part}")
            assert _selects(target["spec"]["selector"], pod_labels(deployment))
            (endpoint,) = monitor["spec"]["endpoints"]
            assert endpoint["path"] == "/metrics"
            (port,) = [p for p in target["spec"]["ports"] if p["name"] == endpoint["port"]]
            container_ports = {
                p["name"]: p["containerPort"] for p in pod_spec(deployment)["containers"][0]["ports"]
            }
            assert container_ports[port["targetPort"]] == _listening_port(deployment)


def test_metrics_are_reachable_by_prometheus_only(docs: list[Doc]) -> None:
    policies = of_kind(docs, "NetworkPolicy")
    pods = _pods(docs)
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    for service in SERVICES:
        assert allowed(policies, prometheus, pods[f"{service}-api"], 8000)
        for part in ("worker", "relay"):
            assert allowed(policies, prometheus, pods[f"{service}-{part}"], 8081)
            assert not allowed(policies, pods["intruder"], pods[f"{service}-{part}"], 8081)
            assert not allowed(policies, pods["identity-api"], pods[f"{service}-{part}"], 8081)
        assert not allowed(policies, prometheus, pods["postgres"], 5432)
    (ingress,) = of_kind(docs, "Ingress")
    for path in ingress["spec"]["rules"][0]["http"]["paths"]:
        # Only public /v1 prefixes reach a service (/metrics stays inside); the rest goes to the
        # web server, which serves no /metrics and which Prometheus cannot reach.
        web = path["backend"]["service"]["name"] == "web"
        assert path["path"].startswith("/v1/") or web, path["path"]
    assert not allowed(policies, prometheus, pods["web"], 8080)


def _rules(docs: list[Doc]) -> list[Doc]:
    rule = named(docs, "PrometheusRule", "aiflux")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def test_alert_rules_cover_the_operators_duties(docs: list[Doc]) -> None:
    rules = _rules(docs)
    alerts = [r["alert"] for r in rules]
    assert len(alerts) == len(set(alerts))
    assert set(alerts) >= REQUIRED_ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        assert _METRIC.search(rule["expr"]), rule["alert"]


def _dashboard(docs: list[Doc]) -> Doc:
    config_map = named(docs, "ConfigMap", "aiflux-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    return json.loads(config_map["data"]["aiflux.json"])


def test_dashboard_is_a_grafana_dashboard_of_prometheus_queries(docs: list[Doc]) -> None:
    dashboard = _dashboard(docs)
    assert dashboard["uid"] and dashboard["title"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["type"] == "prometheus"
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), panel["title"]


def exported_metric_names() -> set[str]:
    """The series names the code exports: gauges as named, counters with ``_total``,
    histograms with ``_bucket``, ``_count`` and ``_sum``."""
    names: set[str] = set()
    sources = [*REPO.glob("libs/*/src/**/*.py"), *REPO.glob("services/*/src/**/*.py")]
    for path in sources:
        for kind, name in _DEFINED.findall(path.read_text()):
            if kind == "Counter":
                names.add(f"{name}_total")
            elif kind == "Histogram":
                names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
            else:
                names.add(name)
    return names


def monitored_metric_names(docs: list[Doc]) -> set[str]:
    """Every metric named by an alert rule or a dashboard query."""
    exprs = [r["expr"] for r in _rules(docs)]
    exprs += [t["expr"] for p in _dashboard(docs)["panels"] for t in p.get("targets", [])]
    return {name for expr in exprs for name in _METRIC.findall(expr)}


def test_every_metric_in_rules_and_dashboard_is_exported_by_the_code(docs: list[Doc]) -> None:
    exported = exported_metric_names()
    assert "aiflux_http_requests_total" in exported and "aiflux_outbox_backlog" in exported
    named_here = monitored_metric_names(docs)
    assert named_here - exported == set()
