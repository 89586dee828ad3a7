"""Split rendered manifests into built-in kinds and operator custom resources.

kubernetes-validate ships the JSON schemas of the Kubernetes API itself and has no way to load
a CRD's schema, so it cannot validate the operators' custom resources offline. Those kinds, and
only those, are set aside here, each with the reason; everything else must validate strictly.
The custom resources are checked instead by tests/k8s (their cross-references: roles, databases,
users, secrets, cluster references).

    python custom_resources.py RENDERED.yaml BUILTIN.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

_CNPG = "CloudNativePG CRD (postgresql.cnpg.io): its schema ships with the operator, not with Kubernetes"
_RABBIT = "RabbitMQ Cluster Operator CRD (rabbitmq.com): its schema ships with the operator"
_TOPOLOGY = "RabbitMQ Messaging Topology Operator CRD (rabbitmq.com): its schema ships with the operator"
_PROM = "Prometheus Operator CRD (monitoring.coreos.com): its schema ships with the operator"
_ESO = "External Secrets Operator CRD (external-secrets.io): its schema ships with the operator"

SKIPPED_KINDS: dict[tuple[str, str], str] = {
    ("postgresql.cnpg.io/v1", "Cluster"): _CNPG,
    ("postgresql.cnpg.io/v1", "Database"): _CNPG,
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): _RABBIT,
    ("rabbitmq.com/v1beta1", "Vhost"): _TOPOLOGY,
    ("rabbitmq.com/v1beta1", "Exchange"): _TOPOLOGY,
    ("rabbitmq.com/v1beta1", "Queue"): _TOPOLOGY,
    ("rabbitmq.com/v1beta1", "Binding"): _TOPOLOGY,
    ("rabbitmq.com/v1beta1", "Policy"): _TOPOLOGY,
    ("rabbitmq.com/v1beta1", "User"): _TOPOLOGY,
    ("rabbitmq.com/v1beta1", "Permission"): _TOPOLOGY,
    ("external-secrets.io/v1", "ExternalSecret"): _ESO,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): _PROM,
    ("monitoring.coreos.com/v1", "PrometheusRule"): _PROM,
}
"""Custom resource kinds that kubernetes-validate cannot check offline, with the reason."""


def split(docs: list[dict]) -> tuple[list[dict], list[dict]]:
    """(built-in kinds, custom resources in SKIPPED_KINDS), in rendering order."""
    builtin, custom = [], []
    for doc in docs:
        key = (doc["apiVersion"], doc["kind"])
        (custom if key in SKIPPED_KINDS else builtin).append(doc)
    return builtin, custom


def main(rendered: str, builtin_out: str) -> int:
    docs = [d for d in yaml.safe_load_all(Path(rendered).read_text()) if d]
    builtin, custom = split(docs)
    Path(builtin_out).write_text(yaml.safe_dump_all(builtin, sort_keys=False))
    kinds = sorted({(d["apiVersion"], d["kind"]) for d in custom})
    for api_version, kind in kinds:
        count = sum(1 for d in custom if (d["apiVersion"], d["kind"]) == (api_version, kind))
        print(
            f"  not schema-validated: {count} x {kind} ({api_version}): {SKIPPED_KINDS[(api_version, kind)]}"
        )
    print(f"  {len(builtin)} built-in resources go to kubernetes-validate --strict")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
