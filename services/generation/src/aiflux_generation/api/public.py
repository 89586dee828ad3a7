"""``/v1/...`` routes of the generation service and the providers' webhooks: parse, call a
handler, return."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Annotated

from aiflux_kit.auth import CurrentUser
from aiflux_kit.errors import Problem
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Query, Request, Response

from ..bootstrap import Container
from ..domain.errors import ProviderDown
from ..handlers import requests as jobs
from ..handlers import webhooks
from ..schemas import (
    GenerationAccepted,
    GenerationOut,
    GenerationPage,
    GenerationRequest,
    ModelOut,
    ModelPage,
    WebhookReceived,
)

router = APIRouter(tags=["generation"])

Limit = Annotated[int, Query(ge=1, le=100)]
# Every refusal a new job can meet: unauthenticated, credits, restricted, erased, invalid,
# rate-limited, a peer or provider down.
START_PROBLEMS = (401, 402, 403, 410, 422, 429, 503)


@contextlib.contextmanager
def retry_after_when_provider_down() -> Iterator[None]:
    """An open breaker is answered with ``Retry-After`` (HTTP's part of the refusal)."""
    try:
        yield
    except ProviderDown as exc:
        raise Problem(exc.status, exc.slug, exc.title, exc.detail, headers={"Retry-After": "60"}) from None


@router.get(
    "/v1/models", response_model=ModelPage, response_model_exclude_none=True, responses=problem_responses()
)
async def list_models(c: Container) -> ModelPage:
    """The catalog: each model's modality, price and accepted params."""
    models = [ModelOut.model_validate(m.public()) for m in c.catalog.all()]
    return ModelPage(items=models, next_cursor=None)


@router.post(
    "/v1/generations",
    status_code=202,
    response_model=GenerationAccepted,
    responses=problem_responses(*START_PROBLEMS, 413),
)
async def create(body: GenerationRequest, user: CurrentUser, c: Container) -> GenerationAccepted:
    """Start a generation: credits are held until it completes or fails."""
    with retry_after_when_provider_down():
        generation_id = await jobs.start_generation(
            c, user.user_id, body.model, body.prompt, body.input_file_ids, body.params
        )
    return GenerationAccepted(id=generation_id, status="queued")


@router.get("/v1/generations", response_model=GenerationPage, responses=problem_responses(401, 403, 422, 503))
async def list_generations(
    user: CurrentUser, c: Container, limit: Limit = 20, cursor: uuid.UUID | None = None
) -> GenerationPage:
    """The caller's generations, newest first."""
    items = await jobs.list_generations(c, user.user_id, limit, cursor)
    next_cursor = str(items[-1].id) if len(items) == limit else None
    return GenerationPage(items=items, next_cursor=next_cursor)


@router.get(
    "/v1/generations/{generation_id}",
    response_model=GenerationOut,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_generation(generation_id: uuid.UUID, user: CurrentUser, c: Container) -> GenerationOut:
    """One of the caller's generations."""
    return await jobs.get_generation(c, user.user_id, generation_id)


@router.post(
    "/v1/generations/{generation_id}/repeat",
    status_code=202,
    response_model=GenerationAccepted,
    responses=problem_responses(*START_PROBLEMS, 404),
)
async def repeat(generation_id: uuid.UUID, user: CurrentUser, c: Container) -> GenerationAccepted:
    """Run again with the same prompt, inputs and parameters."""
    with retry_after_when_provider_down():
        new_id = await jobs.repeat_generation(c, user.user_id, generation_id)
    return GenerationAccepted(id=new_id, status="queued")


@router.delete(
    "/v1/generations/{generation_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 410, 422, 503),
)
async def delete(generation_id: uuid.UUID, user: CurrentUser, c: Container) -> Response:
    """Delete the generation, its inputs and outputs, and provider-side data (204, no body)."""
    await jobs.delete_generation(c, user.user_id, generation_id)
    return Response(status_code=204)


@router.post(
    "/v1/generation/webhooks/wavespeed",
    include_in_schema=False,
    response_model=WebhookReceived,
    responses=problem_responses(400, 401, 413, 503),
)
async def wavespeed(request: Request, c: Container) -> WebhookReceived:
    """WaveSpeed's signed callback: a signal to re-read the prediction."""
    body = await request.body()
    await webhooks.wavespeed_webhook(c, dict(request.headers), body)
    return WebhookReceived(received=True)


@router.post(
    "/v1/generation/webhooks/runpod/{generation_id}/{token}",
    include_in_schema=False,
    response_model=WebhookReceived,
    responses=problem_responses(404, 422, 503),
)
async def runpod(generation_id: uuid.UUID, token: str, c: Container) -> WebhookReceived:
    """RunPod's callback (unsigned; the token is the secret): re-read the job."""
    await webhooks.runpod_webhook(c, generation_id, token)
    return WebhookReceived(received=True)
