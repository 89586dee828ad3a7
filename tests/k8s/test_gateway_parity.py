"""The `make up` gateway routes exactly what the Kubernetes Ingress routes, to the same services,
so what works (or is refused) locally works (or is refused) in production."""

from __future__ import annotations

import importlib.util

from rendered_manifests import REPO, Doc, of_kind

ROUTE_TABLE = REPO / "libs/runner/src/aiflux_runner/public_routes.py"


def gateway_routes() -> dict[str, str]:
    """The gateway's table, loaded from its file (this virtualenv lacks the project packages)."""
    spec = importlib.util.spec_from_file_location("public_routes", ROUTE_TABLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.PUBLIC_ROUTES)


def test_the_gateway_routes_exactly_the_ingress_paths(docs: list[Doc]) -> None:
    (ingress,) = of_kind(docs, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    ingress_routes = {
        p["path"]: p["backend"]["service"]["name"].removesuffix("-api") for p in rule["http"]["paths"]
    }
    assert gateway_routes() == ingress_routes
