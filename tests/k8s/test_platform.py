"""The platform the services run on: operator resources, their wiring, and secrets by reference."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest
from rendered_manifests import REPO, SERVICES, Doc, named, of_kind, pod_spec, workloads

ENVIRONMENTS = {"dev", "test", "embedded", "production"}  # aiflux_kit.settings.Environment


def _env(doc: Doc) -> list[Doc]:
    (container,) = pod_spec(doc)["containers"]
    return container.get("env", [])


def test_one_database_per_service_owned_by_its_own_managed_role(docs: list[Doc]) -> None:
    (cluster,) = of_kind(docs, "Cluster")
    roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
    databases = {d["spec"]["name"]: d for d in of_kind(docs, "Database")}
    assert set(databases) == set(SERVICES) == set(roles)
    for service in SERVICES:
        assert databases[service]["spec"]["owner"] == service
        assert databases[service]["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
        assert databases[service]["spec"]["databaseReclaimPolicy"] == "retain"
        assert roles[service]["login"] is True
        assert roles[service]["passwordSecret"]["name"] == f"aiflux-pg-{service}"
    assert cluster["spec"]["enableSuperuserAccess"] is False


def test_each_service_connects_to_its_own_database_with_its_own_role(docs: list[Doc]) -> None:
    cluster = of_kind(docs, "Cluster")[0]["metadata"]["name"]
    for doc in workloads(docs):
        service = doc["metadata"]["labels"]["app.kubernetes.io/name"]
        if service == "web":  # the web server: no database, no broker, no secret
            (container,) = pod_spec(doc)["containers"]
            assert "env" not in container and all("secretRef" not in s for s in container["envFrom"])
            continue
        env = {e["name"]: e for e in _env(doc)}
        url = env[f"{service.upper()}_DATABASE_URL"]["value"]
        assert re.fullmatch(
            rf"postgresql\+psycopg://\$\(DB_USERNAME\):\$\(DB_PASSWORD\)@{cluster}-rw:5432/"
            rf"{service}\?sslmode=require",
            url,
        ), url
        names = [e["name"] for e in _env(doc)]
        # $(VAR) only expands variables defined earlier in the list.
        assert names.index("DB_USERNAME") < names.index(f"{service.upper()}_DATABASE_URL")
        assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": f"aiflux-pg-{service}",
            "key": "password",
        }
        amqp = env["AIFLUX_AMQP_URL"]["value"]
        assert amqp == "amqp://$(AMQP_USERNAME):$(AMQP_PASSWORD)@aiflux-rabbitmq:5672/aiflux"
        assert env["AMQP_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"aiflux-amqp-{service}"
        assert env["AIFLUX_REDIS_URL"]["value"] == "redis://:$(REDIS_PASSWORD)@aiflux-redis:6379/0"


def test_rabbitmq_topology_belongs_to_the_one_cluster(docs: list[Doc]) -> None:
    (cluster,) = of_kind(docs, "RabbitmqCluster")
    name = cluster["metadata"]["name"]
    topology = [d for d in docs if d["apiVersion"] == "rabbitmq.com/v1beta1" and d is not cluster]
    for doc in topology:
        assert doc["spec"]["rabbitmqClusterReference"] == {"name": name}, doc["metadata"]["name"]
    vhosts = {v["spec"]["name"] for v in of_kind(docs, "Vhost")}
    for doc in topology:
        if doc["kind"] not in ("Vhost", "User"):  # users are cluster-wide
            assert doc["spec"]["vhost"] in vhosts, doc["metadata"]["name"]
    (events,) = [e for e in of_kind(docs, "Exchange") if e["spec"]["name"] == "aiflux.events"]
    assert events["spec"]["type"] == "topic" and events["spec"]["durable"] is True


def test_every_service_has_its_own_rabbitmq_user_limited_to_its_queues(docs: list[Doc]) -> None:
    users = {u["metadata"]["name"]: u for u in of_kind(docs, "User")}
    permissions = {p["spec"]["userReference"]["name"]: p for p in of_kind(docs, "Permission")}
    for service in SERVICES:
        user = users[f"aiflux-{service}"]
        assert user["spec"]["importCredentialsSecret"] == {"name": f"aiflux-amqp-{service}"}
        assert "tags" not in user["spec"], "service users need no management access"
        rules = permissions[f"aiflux-{service}"]["spec"]["permissions"]
        for verb in ("configure", "write", "read"):
            pattern = re.compile(rules[verb])
            assert pattern.search(f"{service}.erasure.retry.0"), (service, verb)
            assert pattern.search("aiflux.events"), (service, verb)
            others = [s for s in SERVICES if s != service]
            assert not any(pattern.search(f"{other}.erasure") for other in others), (service, verb)
        # failed messages move to retry/parking queues through the default exchange
        assert re.search(rules["write"], "amq.default")


def _referenced_secrets(docs: list[Doc]) -> set[str]:
    names: set[str] = set()
    for doc in workloads(docs) + of_kind(docs, "StatefulSet"):
        for container in pod_spec(doc)["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    names.add(ref["name"])
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    names.add(source["secretRef"]["name"])
    (cluster,) = of_kind(docs, "Cluster")
    names |= {r["passwordSecret"]["name"] for r in cluster["spec"]["managed"]["roles"]}
    names |= {u["spec"]["importCredentialsSecret"]["name"] for u in of_kind(docs, "User")}
    return names


def test_every_referenced_secret_is_provided_and_prod_commits_none(
    docs: list[Doc],
    overlay: str,
) -> None:
    referenced = _referenced_secrets(docs)
    secrets = {s["metadata"]["name"]: s for s in of_kind(docs, "Secret")}
    external = {e["spec"]["target"]["name"] for e in of_kind(docs, "ExternalSecret")}
    if overlay == "prod":
        assert not secrets, "prod takes every secret by reference (ExternalSecret)"
        assert referenced == external
        for es in of_kind(docs, "ExternalSecret"):
            assert es["spec"]["secretStoreRef"]["kind"] == "ClusterSecretStore"
    else:
        assert not external
        assert referenced == set(secrets)


def test_dev_secret_values_are_obvious_placeholders(docs: list[Doc], overlay: str) -> None:
    for secret in of_kind(docs, "Secret"):
        for key, encoded in secret.get("data", {}).items():
            value = base64.b64decode(encoded).decode()
            if key == "username":
                assert value in SERVICES
            elif key.endswith("_TRUSTED_CALLERS"):
                # Pair keys (aiflux_kit.auth.pair_key) of the callers' dev-only service keys.
                callee = key.removesuffix("_TRUSTED_CALLERS").lower()
                for caller, pair in json.loads(value).items():
                    expected = hmac.new(
                        f"dev-only-{caller}-service-key".encode(),
                        f"aiflux-service-token:{callee}".encode(),
                        hashlib.sha256,
                    ).hexdigest()
                    assert pair == expected, (key, caller)
            else:
                assert value.startswith("dev-only-"), (secret["metadata"]["name"], key)


def test_database_role_secrets_are_basic_auth_and_reloaded_by_cnpg(docs: list[Doc]) -> None:
    for service in SERVICES:
        name = f"aiflux-pg-{service}"
        for doc in of_kind(docs, "Secret"):
            if doc["metadata"]["name"] == name:
                assert doc["type"] == "kubernetes.io/basic-auth"
                assert doc["metadata"]["labels"]["cnpg.io/reload"] == "true"
        for doc in of_kind(docs, "ExternalSecret"):
            if doc["metadata"]["name"] == name:
                template = doc["spec"]["target"]["template"]
                assert template["type"] == "kubernetes.io/basic-auth"
                assert template["metadata"]["labels"]["cnpg.io/reload"] == "true"


def test_shared_settings(docs: list[Doc], overlay: str) -> None:
    (shared,) = [c for c in of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("aiflux-shared")]
    data = shared["data"]
    assert data["AIFLUX_ENV"] in ENVIRONMENTS
    assert data["AIFLUX_ENV"] == ("production" if overlay == "prod" else "dev")
    for peer in ("identity", "billing", "storage"):
        assert data[f"AIFLUX_{peer.upper()}_URL"] == f"http://{peer}-api:8000"
        named(docs, "Service", f"{peer}-api")
    assert data["AIFLUX_DATA_DIR"].startswith("/tmp/")  # the only writable path


def test_namespace_enforces_pod_security(docs: list[Doc]) -> None:
    (namespace,) = of_kind(docs, "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] in ("baseline", "restricted")
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace["metadata"]["name"], doc["metadata"]


def test_uvicorn_takes_client_addresses_only_through_the_pod_network(docs: list[Doc]) -> None:
    (shared,) = [c for c in of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("aiflux-shared")]
    trusted = shared["data"]["FORWARDED_ALLOW_IPS"].split(",")
    assert "*" not in trusted, "'*' makes uvicorn use the forgeable left-most X-Forwarded-For"


def test_prod_provides_every_secret_setting_that_refuses_its_default(docs: list[Doc], overlay: str) -> None:
    """A service refuses to start in production while a secret keeps its placeholder default."""
    settings = pytest.importorskip("aiflux_kit.settings", reason="needs the project venv (aiflux-kit)")
    services = pytest.importorskip("aiflux_runner.services")
    from pydantic import SecretStr

    provided = (
        {
            name: {item["secretKey"] for item in es["spec"]["data"]}
            for es in of_kind(docs, "ExternalSecret")
            for name in [es["spec"]["target"]["name"]]
        }
        if overlay == "prod"
        else {s["metadata"]["name"]: set(s.get("data", {})) for s in of_kind(docs, "Secret")}
    )
    for service in SERVICES:
        cls = services.settings_class(service)
        prefix = cls.model_config["env_prefix"]
        for field_name, info in cls.model_fields.items():
            default = info.default
            if (
                isinstance(default, SecretStr)
                and (default.get_secret_value().strip().lower() in settings.PLACEHOLDER_SECRETS)
                and field_name != "database_url"
            ):
                key = f"{prefix}{field_name.upper()}"
                assert key in provided[f"{service}-secrets"], (overlay, key)


def _labels(doc: Doc) -> dict[str, str]:
    return doc["metadata"].get("labels", {})


def test_the_documented_release_steps_apply_migrations_before_the_processes(
    docs: list[Doc],
) -> None:
    """docs/deploy.md: 1. `part-of!=aiflux` (platform), 2. the selector below, 3. everything."""
    platform = [d for d in docs if _labels(d).get("app.kubernetes.io/part-of") != "aiflux"]
    step2 = [
        d
        for d in docs
        if _labels(d).get("app.kubernetes.io/part-of") == "aiflux"
        and _labels(d).get("app.kubernetes.io/component")
        not in ("api", "worker", "relay", "sweep", "check", "web")
    ]
    # (the alert rules and the dashboard ConfigMap of base/monitoring may go in with them)
    assert {d["kind"] for d in step2} == {"Job", "ServiceAccount", "ConfigMap", "PrometheusRule"}
    available = {(d["kind"], d["metadata"]["name"]) for d in platform + step2}
    available |= {("Secret", e["spec"]["target"]["name"]) for e in of_kind(docs, "ExternalSecret")}
    for job in of_kind(docs, "Job"):
        spec = pod_spec(job)
        assert ("ServiceAccount", spec["serviceAccountName"]) in available
        (container,) = spec["containers"]
        for source in container["envFrom"]:
            kind, ref = (
                ("ConfigMap", source["configMapRef"])
                if "configMapRef" in source
                else ("Secret", source["secretRef"])
            )
            assert (kind, ref["name"]) in available, (job["metadata"]["name"], ref)
        for env in container["env"]:
            if "valueFrom" in env:
                assert ("Secret", env["valueFrom"]["secretKeyRef"]["name"]) in available
    docs_text = (REPO / "docs/deploy.md").read_text()
    assert (
        "-l 'app.kubernetes.io/part-of=aiflux,app.kubernetes.io/component notin "
        "(api,worker,relay,sweep,check,web)'"
    ) in docs_text
    assert "-l 'app.kubernetes.io/part-of!=aiflux'" in docs_text
