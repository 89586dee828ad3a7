"""HTTP routes of the generation service: parse, call a handler, return."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

from aiflux_kit.auth import CurrentUser
from aiflux_kit.errors import not_found
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from .adapters import repository as repo
from .api_ops import ops_routes
from .handlers import requests as jobs
from .handlers import webhooks

if TYPE_CHECKING:
    from .bootstrap import GenerationContainer


def container(request: Request) -> GenerationContainer:
    """The generation container (same in the one-service and the embedded app)."""
    found: GenerationContainer = request.app.state.services["generation"]
    return found


# Any: the container type lives in bootstrap, which imports this module.
Container = Annotated[Any, Depends(container)]


class GenerationRequest(BaseModel):
    """``POST /v1/generations``."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=100)
    prompt: str = Field(max_length=20_000)
    input_file_ids: list[uuid.UUID] = Field(default_factory=list, max_length=16)
    params: dict[str, Any] = Field(default_factory=dict)


def build_router() -> APIRouter:
    """Every route of the generation service."""
    router = APIRouter(tags=["generation"])
    _user_routes(router)
    _webhook_routes(router)
    router.include_router(ops_routes())
    return router


def _user_routes(router: APIRouter) -> None:
    @router.get("/v1/models")
    async def list_models(c: Container) -> dict[str, Any]:
        """The catalog."""
        return {"items": [m.public() for m in c.catalog.all()], "next_cursor": None}

    @router.post("/v1/generations", status_code=202)
    async def create(body: GenerationRequest, user: CurrentUser, c: Container) -> dict[str, Any]:
        """Start a generation: credits are held until it completes or fails."""
        return await jobs.start_generation(c, user.user_id, body.model, body.prompt,
                                           body.input_file_ids, body.params)

    @router.get("/v1/generations")
    async def list_generations(
        user: CurrentUser, c: Container, limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        """The caller's generations, newest first."""
        async with c.database.transaction() as session:
            rows = await repo.list_generations(session, user.user_id, limit, cursor)
        items = [jobs.view(c, row) for row in rows]
        return {"items": items, "next_cursor": str(rows[-1].id) if len(rows) == limit else None}

    @router.get("/v1/generations/{generation_id}")
    async def get_generation(generation_id: uuid.UUID, user: CurrentUser,
                             c: Container) -> dict[str, Any]:
        """One of the caller's generations."""
        async with c.database.transaction() as session:
            row = await repo.get_generation(session, generation_id, user_id=user.user_id)
        if row is None:
            raise not_found("generation")
        return jobs.view(c, row)

    @router.post("/v1/generations/{generation_id}/repeat", status_code=202)
    async def repeat(generation_id: uuid.UUID, user: CurrentUser,
                     c: Container) -> dict[str, Any]:
        """Run again with the same prompt, inputs and parameters."""
        return await jobs.repeat_generation(c, user.user_id, generation_id)

    @router.delete("/v1/generations/{generation_id}", status_code=204)
    async def delete(generation_id: uuid.UUID, user: CurrentUser, c: Container) -> Response:
        """Delete the generation, its inputs and outputs, and provider-side data."""
        await jobs.delete_generation(c, user.user_id, generation_id)
        return Response(status_code=204)


def _webhook_routes(router: APIRouter) -> None:
    @router.post("/v1/generation/webhooks/wavespeed", include_in_schema=False)
    async def wavespeed(request: Request, c: Container) -> dict[str, bool]:
        """WaveSpeed's signed callback: a signal to re-read the prediction."""
        body = await request.body()
        await webhooks.wavespeed_webhook(c, dict(request.headers), body)
        return {"received": True}

    @router.post("/v1/generation/webhooks/runpod/{generation_id}/{token}",
                 include_in_schema=False)
    async def runpod(generation_id: uuid.UUID, token: str, c: Container) -> dict[str, bool]:
        """RunPod's callback (unsigned; the token is the secret): re-read the job."""
        await webhooks.runpod_webhook(c, generation_id, token)
        return {"received": True}
