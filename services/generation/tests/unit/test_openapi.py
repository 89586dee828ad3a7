"""Every generation operation documents a typed 2xx body and its problem answers."""

from __future__ import annotations

import pytest
from aiflux_generation.api import build_router
from aiflux_generation.settings import GenerationSettings
from fastapi import FastAPI

pytestmark = pytest.mark.unit


def test_every_operation_has_a_typed_success_body_and_problem_answers() -> None:
    settings = GenerationSettings(
        env="test", wavespeed_webhook_secret="whsec_unit", runpod_webhook_secret="rp-unit"
    )
    app = FastAPI()
    app.include_router(build_router(settings))
    document = app.openapi()
    operations = [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    assert len(operations) == 10
    for method, path, op in operations:
        success = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert success, (method, path)
        for status, answer in success.items():
            if status == "204":
                continue
            schema = answer["content"]["application/json"]["schema"]
            assert "$ref" in schema, (method, path, schema)
        problems = [
            s for s, r in op["responses"].items() if "application/problem+json" in r.get("content", {})
        ]
        if path != "/v1/models":
            assert problems, (method, path)
