"""The public route table: path prefix → service. The development gateway of `make up` routes
exactly these, as the Kubernetes Ingress (deploy/k8s/base/edge/ingress.yaml) does; a parity test
(tests/k8s/test_gateway_parity.py) keeps the two equal. The ops API (/v1/ops/...), internal
routes (/internal/...), health and OpenAPI documents are not public: operators reach a service's
own port (``make up``) or use ``kubectl port-forward`` (Kubernetes).

Every other path goes to the web server (WEB_ROUTES: the ops console at /ops and the client at
/, a catch-all tried after every API prefix, as an Ingress prefers the longest prefix). It
serves pages and assets and answers any other path (/internal/..., /v1/ops/..., /openapi.json)
with a 404 problem, so a path outside the API table reaches no service.

No imports on purpose: the Kubernetes checks load this file without the project's packages.
"""

PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("/v1/auth", "identity"),
    ("/v1/account", "identity"),
    ("/v1/billing", "billing"),
    ("/v1/models", "generation"),
    ("/v1/generations", "generation"),
    # AI providers' signed completion callbacks (WaveSpeed, RunPod); browsers never call them.
    ("/v1/generation/webhooks", "generation"),
    ("/v1/files", "storage"),
    ("/v1/privacy", "privacy"),
)

WEB = "web"
"""The web server's name in the tables (its Kubernetes Service is ``web``)."""

WEB_ROUTES: tuple[tuple[str, str], ...] = (
    ("/ops", WEB),  # the ops console and its relay to the ops API (admin sessions only)
    ("/", WEB),  # the web client; catch-all, tried last
)
