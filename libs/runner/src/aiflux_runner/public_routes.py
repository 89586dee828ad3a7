"""The public route table: path prefix → service. The development gateway of `make up` routes
exactly these, as the Kubernetes Ingress (deploy/k8s/base/edge/ingress.yaml) does; a parity test
(tests/k8s/test_gateway_parity.py) keeps the two equal. The ops API (/v1/ops/...), internal
routes (/internal/...), health and OpenAPI documents are not public: operators reach a service's
own port (``make up``) or use ``kubectl port-forward`` (Kubernetes).

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
