"""The edges: what the Ingress exposes, and which flows the NetworkPolicies let through."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pytest
from rendered_manifests import SERVICES, Doc, named, of_kind, pod_labels

PUBLIC_PREFIXES = {
    "/v1/auth": "identity",
    "/v1/account": "identity",
    "/v1/billing": "billing",
    "/v1/models": "generation",
    "/v1/generations": "generation",
    "/v1/files": "storage",
    "/v1/privacy": "privacy",
    # Not in API.md (no browser calls them): the AI providers' signed completion callbacks.
    "/v1/generation/webhooks": "generation",
}
"""shared/API.md: the public routes of each service, plus the provider webhooks."""
WEB_PREFIXES = ("/ops", "/")
"""The web server's: the ops console, then the client (every other path)."""


def test_ingress_routes_exactly_the_public_prefixes(docs: list[Doc]) -> None:
    (ingress,) = of_kind(docs, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    routes = {p["path"]: p for p in rule["http"]["paths"]}
    assert set(routes) == set(PUBLIC_PREFIXES) | set(WEB_PREFIXES)
    for path, service in PUBLIC_PREFIXES.items():
        assert routes[path]["pathType"] == "Prefix"
        backend = routes[path]["backend"]["service"]
        assert backend == {"name": f"{service}-api", "port": {"name": "http"}}
        named(docs, "Service", backend["name"])
    for path in WEB_PREFIXES:
        assert routes[path]["pathType"] == "Prefix"
        assert routes[path]["backend"]["service"] == {"name": "web", "port": {"name": "http"}}
    web = named(docs, "Service", "web")
    assert web["spec"]["selector"]["app.kubernetes.io/name"] == "web"
    assert "defaultBackend" not in ingress["spec"]


def _backend(ingress: Doc, path: str) -> str:
    """The Service an Ingress sends ``path`` to: the longest Prefix matching whole segments."""
    matching = [
        p
        for p in ingress["spec"]["rules"][0]["http"]["paths"]
        if p["path"] == "/" or path == p["path"].rstrip("/") or path.startswith(p["path"].rstrip("/") + "/")
    ]
    return str(max(matching, key=lambda p: len(p["path"]))["backend"]["service"]["name"])


@pytest.mark.parametrize(
    "path",
    [
        "/v1/ops/privacy/requests",
        "/v1/ops/billing/outbox",
        "/internal/billing/holds",
        "/internal/identity/sessions/introspect",
        "/healthz",
        "/readyz",
        "/docs",
        "/openapi.json",
        "/",
        "/v1/generation",
        "/v1/generation/jobs",
    ],
)
def test_ops_internal_and_health_routes_reach_no_service(docs: list[Doc], path: str) -> None:
    # They reach the web server, which has none of them (a 404 problem; / is the client).
    (ingress,) = of_kind(docs, "Ingress")
    assert _backend(ingress, path) == "web", path


def test_api_prefixes_win_over_the_web_server(docs: list[Doc]) -> None:
    (ingress,) = of_kind(docs, "Ingress")
    for prefix, service in PUBLIC_PREFIXES.items():
        assert _backend(ingress, prefix + "/x") == f"{service}-api", prefix
    assert _backend(ingress, "/ops/api/privacy/requests") == "web"
    assert _backend(ingress, "/v1/filesystem") == "web"


def test_prod_serves_https_only(docs: list[Doc], overlay: str) -> None:
    (ingress,) = of_kind(docs, "Ingress")
    if overlay == "prod":
        (tls,) = ingress["spec"]["tls"]
        assert tls["hosts"] == [ingress["spec"]["rules"][0]["host"]]
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"


# ---- NetworkPolicy semantics, enough of them to evaluate the policies rendered here ----------


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(hash=False)
    name: str = ""


@dataclass(frozen=True)
class Address:
    ip: str


Endpoint = Pod | Address


def _matches(selector: Doc | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def _peer_matches(peer: Doc, policy_ns: str, endpoint: Endpoint) -> bool:
    if "ipBlock" in peer:
        if not isinstance(endpoint, Address):
            return False
        ip = ipaddress.ip_address(endpoint.ip)
        block = peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if not isinstance(endpoint, Pod):
        return False
    ns_labels = {"kubernetes.io/metadata.name": endpoint.namespace}
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], ns_labels):
            return False
    elif endpoint.namespace != policy_ns:
        return False
    return _matches(peer.get("podSelector"), endpoint.labels)


def _port_matches(ports: list[Doc] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        if "port" not in p or p["port"] == port or p["port"] <= port <= p.get("endPort", p["port"]):
            return True
    return False


def _side_allows(
    policies: list[Doc], subject: Pod, other: Endpoint, port: int, protocol: str, direction: str
) -> bool:
    kind, peers_key = ("Ingress", "from") if direction == "ingress" else ("Egress", "to")
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and kind in p["spec"]["policyTypes"]
        and _matches(p["spec"]["podSelector"], subject.labels)
    ]
    if not selecting:
        return True  # isolated only when some policy selects the pod
    for policy in selecting:
        for rule in policy["spec"].get(direction, []):
            peers = rule.get(peers_key)
            peer_ok = not peers or any(
                _peer_matches(peer, policy["metadata"]["namespace"], other) for peer in peers
            )
            if peer_ok and _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def allowed(policies: list[Doc], src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
    """Whether src may open a connection to dst:port under these policies."""
    if isinstance(src, Pod) and not _side_allows(policies, src, dst, port, protocol, "egress"):
        return False
    return not isinstance(dst, Pod) or _side_allows(policies, dst, src, port, protocol, "ingress")


# ---- the pods of the rendered overlay, and the flows the architecture needs ----------------


def _pods(docs: list[Doc]) -> dict[str, Pod]:
    (namespace,) = of_kind(docs, "Namespace")
    ns = namespace["metadata"]["name"]
    pods = {
        d["metadata"]["name"]: Pod(ns, pod_labels(d), d["metadata"]["name"])
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet", "CronJob", "Job")
    }
    # Pods the operators create (their documented labels) and peers outside the namespace.
    pods["postgres"] = Pod(ns, {"cnpg.io/cluster": "aiflux-pg", "cnpg.io/instanceRole": "primary"})
    pods["rabbitmq"] = Pod(
        ns,
        {
            "app.kubernetes.io/name": "aiflux-rabbitmq",
            "app.kubernetes.io/component": "rabbitmq",
            "app.kubernetes.io/part-of": "rabbitmq",
        },
    )
    pods["ingress-controller"] = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    pods["kube-dns"] = Pod("kube-system", {"k8s-app": "kube-dns"})
    pods["cnpg-operator"] = Pod("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"})
    pods["topology-operator"] = Pod(
        "rabbitmq-system", {"app.kubernetes.io/name": "messaging-topology-operator"}
    )
    pods["intruder"] = Pod("default", {"app": "something-else"})
    pods["prometheus"] = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    return pods


INTERNET = Address("203.0.113.10")
PRIVATE = Address("10.1.2.3")


@pytest.fixture
def net(docs: list[Doc]) -> tuple[list[Doc], dict[str, Pod]]:
    policies = of_kind(docs, "NetworkPolicy")
    return policies, _pods(docs)


def test_default_deny_covers_every_pod(docs: list[Doc]) -> None:
    deny = named(docs, "NetworkPolicy", "default-deny-all")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_the_architecture_flows_are_allowed(net: tuple[list[Doc], dict[str, Pod]]) -> None:
    policies, pods = net
    flows: list[tuple[str, str | Address, int]] = []
    for s in SERVICES:
        flows += [("ingress-controller", f"{s}-api", 8000)]
        for process in (f"{s}-api", f"{s}-worker", f"{s}-relay", f"{s}-check-outbox"):
            flows += [
                (process, "postgres", 5432),
                (process, "rabbitmq", 5672),
                (process, "aiflux-redis", 6379),
                (process, "identity-api", 8000),
                (process, "storage-api", 8000),
            ]
    flows += [
        ("generation-worker", "billing-api", 8000),
        ("generation-api", "billing-api", 8000),
        ("privacy-worker", "storage-api", 8000),
    ]
    for s in ("billing", "generation", "storage"):
        flows += [(f"{s}-worker", INTERNET, 443), (f"{s}-api", INTERNET, 443)]
    flows += [("billing-sweep-stripe-reconciliation", INTERNET, 443), ("identity-worker", INTERNET, 587)]
    flows += [("cnpg-operator", "postgres", 8000), ("topology-operator", "rabbitmq", 15672)]
    # The web server: from the ingress controller; to every API (policy page, ops relay).
    flows += [("ingress-controller", "web", 8080)]
    flows += [("web", f"{s}-api", 8000) for s in SERVICES]
    for src, dst, port in flows:
        target = dst if isinstance(dst, Address) else pods[dst]
        assert allowed(policies, pods[src], target, port), (src, dst, port)
    for name in ("identity-api", "billing-worker", "aiflux-redis", "postgres", "rabbitmq", "web"):
        assert allowed(policies, pods[name], pods["kube-dns"], 53, "UDP"), name


def test_everything_else_is_denied(net: tuple[list[Doc], dict[str, Pod]]) -> None:
    policies, pods = net
    denied: list[tuple[str, str | Address, int]] = [
        ("ingress-controller", "billing-worker", 8081),
        ("ingress-controller", "postgres", 5432),
        ("intruder", "identity-api", 8000),
        ("intruder", "postgres", 5432),
        ("privacy-worker", "billing-api", 8000),
        ("storage-api", "billing-api", 8000),
        ("billing-api", "generation-api", 8000),
        ("identity-api", "privacy-api", 8000),
        ("generation-api", "identity-worker", 8081),
        ("identity-worker", INTERNET, 443),
        ("privacy-worker", INTERNET, 443),
        ("privacy-api", INTERNET, 587),
        ("billing-api", INTERNET, 80),
        ("billing-api", INTERNET, 587),
        ("generation-worker", PRIVATE, 443),
        ("storage-api", "rabbitmq", 15672),
        ("aiflux-redis", INTERNET, 443),
        ("aiflux-redis", "postgres", 5432),
        # The web server reaches the APIs only, and only the ingress controller reaches it.
        ("web", "postgres", 5432),
        ("web", "rabbitmq", 5672),
        ("web", "aiflux-redis", 6379),
        ("web", "billing-worker", 8081),
        ("web", INTERNET, 443),
        ("web", PRIVATE, 443),
        ("intruder", "web", 8080),
        ("prometheus", "web", 8080),
        ("identity-api", "web", 8080),
        ("ingress-controller", "web", 8000),
    ]
    for src, dst, port in denied:
        target = dst if isinstance(dst, Address) else pods[dst]
        assert not allowed(policies, pods[src], target, port), (src, dst, port)
