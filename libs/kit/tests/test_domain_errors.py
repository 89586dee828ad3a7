"""Domain refusals become problem+json with their kind's status, and routes document their
problem answers with one shared schema."""

from __future__ import annotations

import httpx
from aiflux_kit.app import _document_problems
from aiflux_kit.domain_errors import DomainError, Kind
from aiflux_kit.errors import install_problem_handlers
from aiflux_kit.openapi import problem_responses
from fastapi import FastAPI


class NotEnoughCredits(DomainError):
    kind = Kind.PAYMENT_REQUIRED
    slug = "insufficient-credits"
    title = "Not enough credits"


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/spend", responses=problem_responses(402, 422))
    async def spend() -> dict[str, str]:
        raise NotEnoughCredits("This needs 3 credits and 1 is available.", needed=3)

    _document_problems(app)
    return app


async def test_a_domain_refusal_is_a_problem_with_its_kinds_status():
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        answer = await c.post("/spend")
    assert answer.status_code == 402
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": "urn:aiflux:problem:insufficient-credits",
        "title": "Not enough credits",
        "status": 402,
        "detail": "This needs 3 credits and 1 is available.",
        "instance": "/spend",
        "needed": 3,
    }


def test_documented_problems_point_at_one_problem_schema():
    document = make_app().openapi()
    answers = document["paths"]["/spend"]["post"]["responses"]
    for status in ("402", "422"):
        schema = answers[status]["content"]["application/problem+json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ProblemDetails"}
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
