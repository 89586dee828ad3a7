"""The `make up` gateway routes exactly what the Kubernetes Ingress routes, to the same services
(the API prefixes, then the web server's /ops and /), so what works (or is refused) locally works
(or is refused) in production."""

from __future__ import annotations

import importlib.util

from rendered_manifests import REPO, Doc, of_kind

ROUTE_TABLE = REPO / "libs/runner/src/aiflux_runner/public_routes.py"


def route_table() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """The gateway's API and web tables, loaded from their file (this virtualenv lacks the
    project packages)."""
    spec = importlib.util.spec_from_file_location("public_routes", ROUTE_TABLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PUBLIC_ROUTES, module.WEB_ROUTES


def gateway_routes() -> dict[str, str]:
    """Every prefix the gateway routes, to its service (``web``: the web server)."""
    api, web = route_table()
    return dict(api + web)


def test_the_gateway_routes_exactly_the_ingress_paths(docs: list[Doc]) -> None:
    (ingress,) = of_kind(docs, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    ingress_routes = {
        p["path"]: p["backend"]["service"]["name"].removesuffix("-api") for p in rule["http"]["paths"]
    }
    assert gateway_routes() == ingress_routes


def _longest_prefix(routes: dict[str, str], path: str) -> str:
    """Where an Ingress sends ``path``: the longest matching prefix, by whole segments."""
    matching = [p for p in routes if p == "/" or path == p or path.startswith(p + "/")]
    return routes[max(matching, key=len)]


def test_the_gateway_order_gives_what_the_ingress_longest_prefix_gives(docs: list[Doc]) -> None:
    # The gateway tries the API prefixes first and the web server's last (/ matches all); the
    # Ingress takes the longest prefix. Both must send every path to the same place.
    api, web = route_table()
    assert [prefix for prefix, _ in web] == ["/ops", "/"] and {s for _, s in web} == {"web"}
    routes = gateway_routes()
    for path in (
        "/",
        "/ops",
        "/ops/api/privacy/requests",
        "/operations",
        "/v1/files/abc",
        "/v1/filesystem",
        "/v1/ops/privacy/requests",
        "/internal/identity/sessions/introspect",
        "/v1/generation/webhooks/wavespeed",
        "/privacy/policy",
    ):
        in_order = next(s for p, s in api + web if p == "/" or path == p or path.startswith(p + "/"))
        assert in_order == _longest_prefix(routes, path), path
