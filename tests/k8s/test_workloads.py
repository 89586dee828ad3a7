"""Every AIFLUX process is probed, sized, hardened, protected by a PDB and shut down gracefully."""

from __future__ import annotations

from rendered_manifests import SERVICES, Doc, named, of_kind, pod_labels, pod_spec, workloads

DRAIN_S = 30  # what `aiflux worker` takes at most to drain in-flight messages on SIGTERM


def _container(doc: Doc) -> Doc:
    containers = pod_spec(doc)["containers"]
    assert [c["name"] for c in containers] == ["aiflux"], doc["metadata"]["name"]
    return containers[0]


def test_every_service_has_api_worker_relay_and_migration(docs: list[Doc]) -> None:
    deployments = {d["metadata"]["name"] for d in of_kind(docs, "Deployment")}
    for service in SERVICES:
        assert {f"{service}-api", f"{service}-worker", f"{service}-relay"} <= deployments
        migrations = [
            j for j in of_kind(docs, "Job") if j["metadata"]["name"].startswith(f"{service}-migrate-")
        ]
        assert len(migrations) == 1, service
        assert _container(migrations[0])["args"] == ["migrate", service]


def test_deployments_have_startup_readiness_and_liveness_probes_on_health_routes(
    docs: list[Doc],
) -> None:
    for deployment in workloads(of_kind(docs, "Deployment")):
        container = _container(deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        name = deployment["metadata"]["name"]
        expected_port = 8080 if name == "web" else 8000 if name.endswith("-api") else 8081
        for probe, path in (
            ("startupProbe", "/healthz"),
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
        ):
            get = container[probe]["httpGet"]
            assert get["path"] == path, (deployment["metadata"]["name"], probe)
            assert ports[get["port"]] == expected_port, (deployment["metadata"]["name"], probe)


def test_every_process_has_requests_and_limits(docs: list[Doc]) -> None:
    for doc in workloads(docs) + of_kind(docs, "StatefulSet"):
        for container in pod_spec(doc)["containers"]:
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[kind]), (doc["metadata"]["name"], kind)


def test_every_pod_runs_restricted(docs: list[Doc]) -> None:
    for doc in workloads(docs) + of_kind(docs, "StatefulSet"):
        name = doc["metadata"]["name"]
        spec = pod_spec(doc)
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["securityContext"]["runAsUser"] >= 10000, name
        tmp_volumes = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["privileged"] is False, name
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["runAsNonRoot"] is True, name
            assert ctx["capabilities"] == {"drop": ["ALL"]}, name
            assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}, name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts.get("/tmp") in tmp_volumes, f"{name}: /tmp must be an emptyDir"


def test_shutdown_outlasts_pre_stop_and_the_consumer_drain(docs: list[Doc]) -> None:
    for deployment in workloads(of_kind(docs, "Deployment")):
        name = deployment["metadata"]["name"]
        spec = pod_spec(deployment)
        pre_stop = _container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pre_stop > 0, name
        assert spec["terminationGracePeriodSeconds"] > pre_stop + DRAIN_S, name


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def test_every_deployment_has_a_disruption_budget(docs: list[Doc]) -> None:
    budgets = of_kind(docs, "PodDisruptionBudget")
    for deployment in workloads(of_kind(docs, "Deployment")):
        labels = pod_labels(deployment)
        matching = [b for b in budgets if _selects(b["spec"]["selector"], labels)]
        assert len(matching) == 1, deployment["metadata"]["name"]
        assert matching[0]["spec"].get("maxUnavailable") == 1


def test_apis_autoscale_and_nothing_fights_the_autoscaler(docs: list[Doc]) -> None:
    for service in SERVICES:
        hpa = named(docs, "HorizontalPodAutoscaler", f"{service}-api")
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"{service}-api",
        }
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        # A replicas field would reset the autoscaler's count on every apply.
        assert "replicas" not in named(docs, "Deployment", f"{service}-api")["spec"]


def test_api_services_route_to_api_pods_only(docs: list[Doc]) -> None:
    for service in SERVICES:
        svc = named(docs, "Service", f"{service}-api")
        assert svc["spec"]["selector"] == {
            "app.kubernetes.io/name": service,
            "app.kubernetes.io/part-of": "aiflux",
            "app.kubernetes.io/component": "api",
        }
        assert svc["spec"]["ports"] == [
            {"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}
        ]


def test_prod_spreads_pods_over_zones_and_nodes(docs: list[Doc], overlay: str) -> None:
    for deployment in workloads(of_kind(docs, "Deployment")):
        constraints = pod_spec(deployment).get("topologySpreadConstraints", [])
        keys = {c["topologyKey"] for c in constraints}
        if overlay == "prod":
            assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
            for c in constraints:
                assert "app.kubernetes.io/name" in c["matchLabelKeys"]
                assert "app.kubernetes.io/component" in c["matchLabelKeys"]
        else:
            assert not constraints


def test_cronjobs_do_not_pile_up(docs: list[Doc]) -> None:
    for cronjob in workloads(of_kind(docs, "CronJob")):
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid", cronjob["metadata"]["name"]
        job = cronjob["spec"]["jobTemplate"]["spec"]
        assert job["activeDeadlineSeconds"] > 0
        assert pod_spec(cronjob)["restartPolicy"] == "Never"


def test_checkov_skips_carry_a_reason(docs: list[Doc]) -> None:
    for doc in docs:
        for key, value in doc["metadata"].get("annotations", {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                assert check.startswith("CKV_K8S_") and len(reason) > 40, (doc["metadata"], key)
