"""What every route documents besides its 2xx body: the problem+json answers it can give.

Routes declare ``responses=problem_responses(401, 404, 422)``; the app's OpenAPI document then
carries each with the shared ``ProblemDetails`` schema under ``application/problem+json``, so a
generated client knows the shape of every error and a schema check can validate them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .errors import MEDIA_TYPE

PROBLEM_SCHEMA_REF = "#/components/schemas/ProblemDetails"


class ProblemDetails(BaseModel):
    """An RFC 9457 problem: a stable ``type`` URN, a title, the status and a human detail."""

    model_config = ConfigDict(extra="allow", title="ProblemDetails")

    type: str = Field(examples=["urn:aiflux:problem:not-found"])
    title: str
    status: int
    detail: str
    instance: str | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answered as problem+json (``ProblemDetails``)."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        for status in statuses
    }


def add_problem_schema(document: dict[str, Any]) -> dict[str, Any]:
    """Put ``ProblemDetails`` into an OpenAPI document's components (the refs point there).

    FastAPI documents its validation answer as ``HTTPValidationError`` JSON; the kit answers it
    as a problem (``validation-error`` with an ``errors`` list), so the document says that.
    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ProblemDetails"] = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            invalid = operation.get("responses", {}).get("422")
            if invalid is not None:
                invalid["content"] = {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document
