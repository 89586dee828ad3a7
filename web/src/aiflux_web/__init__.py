"""The AIFLUX web client (``/``) and ops console (``/ops/``).

Both are static pages (ES modules, no build step, nothing from a CDN) that use only the public
and ops HTTP APIs documented in ``docs/openapi/*.json``. This package serves them with a strict
Content-Security-Policy; it holds no state and no secret.
"""
