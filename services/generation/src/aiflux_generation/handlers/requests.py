"""What users ask for: start, repeat, read and delete generations."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiflux_contracts import GenerationDeleted, GenerationRequested, ProviderCleanupRequested

from ..adapters.billing_client import PeerUnavailable
from ..adapters.store import GenerationStore, refuse_if_erased
from ..domain import errors
from ..domain.catalog import CatalogModel
from ..domain.jobs import FINAL, REASON_CANCELLED, valid_params
from ..domain.params import ParamError
from ..domain.records import Generation
from ..schemas import GenerationOut, OutputOut

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer

NO_SUCH_GENERATION = "No such generation."


async def start_generation(
    c: GenerationContainer,
    user_id: uuid.UUID,
    model_id: str,
    prompt: str,
    input_file_ids: list[uuid.UUID],
    params: dict[str, Any],
    repeat_of: uuid.UUID | None = None,
) -> uuid.UUID:
    """Validate, reserve credits, then save the job and ``GenerationRequested`` together."""
    model = _model(c, model_id)
    prompt = _prompt(c, prompt)
    if not valid_params(params):
        raise errors.InvalidParams(
            "params must be a flat map of at most 16 short values without NUL (U+0000) characters."
        )
    params, credits = _params(model, params)
    async with c.stores.transaction() as store:
        await refuse_if_erased(store, user_id)  # early; checked again where the job is saved
        if await store.is_restricted(user_id):
            raise errors.ProcessingRestricted(
                "Processing of your data is restricted at your request; new "
                "generations are paused until the restriction is lifted."
            )
    await c.platform.limiter.hit("generation.submit", str(user_id), c.settings.submit_rate_limit)
    if c.breakers.is_open(model.provider):
        raise errors.ProviderDown(
            f"The provider of {model.id} is not answering right now; please try again in a few minutes."
        )
    await _check_inputs(c, user_id, model, input_file_ids)
    generation_id = uuid.uuid4()
    await c.billing.reserve(user_id, generation_id, credits)
    try:
        await _save(c, generation_id, user_id, model, prompt, input_file_ids, params, credits, repeat_of)
    except BaseException:
        # The job was not saved: release its hold so no credits stay held for nothing.
        await _void_quietly(c, generation_id, "not saved")
        raise
    c.wake.set()
    return generation_id


def _model(c: GenerationContainer, model_id: str) -> CatalogModel:
    model = c.catalog.get(model_id)
    if model is None:
        raise errors.UnknownModel(f"There is no model {model_id!r}; see GET /v1/models.")
    return model


def _params(model: CatalogModel, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Only the model's accepted params, in range; the credits they cost (before any hold)."""
    try:
        return model.check_params(params)
    except ParamError as exc:
        raise errors.InvalidParams(
            f"{exc} See the model's params in GET /v1/models.", param=exc.key
        ) from None


def _prompt(c: GenerationContainer, prompt: str) -> str:
    prompt = prompt.strip()
    if not prompt or len(prompt) > c.settings.max_prompt_chars:
        raise errors.InvalidPrompt(f"The prompt must have 1 to {c.settings.max_prompt_chars} characters.")
    if "\x00" in prompt:
        raise errors.InvalidPrompt("The prompt must not contain NUL (U+0000) characters.")
    return prompt


async def _check_inputs(
    c: GenerationContainer, user_id: uuid.UUID, model: CatalogModel, file_ids: list[uuid.UUID]
) -> None:
    if len(set(file_ids)) != len(file_ids) or len(file_ids) > model.max_inputs:
        raise errors.TooManyInputs(f"{model.id} takes at most {model.max_inputs} distinct input files.")
    for file_id in file_ids:
        try:
            info = await c.storage.file_info(file_id)
        except PeerUnavailable:
            raise errors.StorageUnavailable(
                "Input files could not be checked right now; please retry."
            ) from None
        if info is None or info.user_id != user_id:
            raise errors.InputFileNotFound(f"No input file {file_id} of yours exists.")
        if info.kind not in model.accepted_inputs:
            accepted = ", ".join(model.accepted_inputs) or "none"
            raise errors.InputTypeNotAccepted(
                f"{model.id} accepts these input types: {accepted}; file {file_id} is {info.kind}."
            )


async def _save(
    c: GenerationContainer,
    generation_id: uuid.UUID,
    user_id: uuid.UUID,
    model: CatalogModel,
    prompt: str,
    input_file_ids: list[uuid.UUID],
    params: dict[str, Any],
    credits: int,
    repeat_of: uuid.UUID | None,
) -> None:
    timeout = c.settings.job_timeout_s.get(model.provider, 900.0)
    async with c.stores.transaction() as store:
        # In the saving transaction: an erasure starting now waits for it and deletes the job.
        await refuse_if_erased(store, user_id)
        await store.insert_generation(
            {
                "id": generation_id,
                "user_id": user_id,
                "model": model.id,
                "modality": model.modality,
                "provider": model.provider,
                "provider_model": model.provider_model,
                "prompt": prompt,
                "params": params,
                "input_file_ids": [str(f) for f in input_file_ids],
                "credits": credits,
                "status": "queued",
                "repeat_of": repeat_of,
                "deadline_at": datetime.now(UTC) + timedelta(seconds=timeout),
            }
        )
        await store.add_event(
            GenerationRequested(
                generation_id=generation_id,
                user_id=user_id,
                model=model.id,
                credits=credits,
                input_file_ids=input_file_ids,
            )
        )


async def _void_quietly(c: GenerationContainer, generation_id: uuid.UUID, reason: str) -> None:
    # Best effort: the original error is what the caller must see.
    with contextlib.suppress(Exception):
        await c.billing.void(generation_id, reason)


async def repeat_generation(
    c: GenerationContainer, user_id: uuid.UUID, generation_id: uuid.UUID
) -> uuid.UUID:
    """A new job with the same model, prompt, inputs and parameters."""
    async with c.stores.transaction() as store:
        await refuse_if_erased(store, user_id)
        original = await store.get_generation(generation_id, user_id=user_id)
    if original is None:
        raise errors.GenerationNotFound(NO_SUCH_GENERATION)
    return await start_generation(
        c,
        user_id,
        original.model,
        original.prompt,
        [uuid.UUID(f) for f in original.input_file_ids],
        dict(original.params),
        repeat_of=original.id,
    )


async def delete_generation(c: GenerationContainer, user_id: uuid.UUID, generation_id: uuid.UUID) -> None:
    """Delete the job, its inputs and outputs (storage), and its provider-side data."""
    async with c.stores.transaction() as store:
        await refuse_if_erased(store, user_id)  # the erasure deletes it (and its files)
        row = await store.get_generation(generation_id, user_id=user_id, lock=True)
        if row is None:
            raise errors.GenerationNotFound(NO_SUCH_GENERATION)
        if row.status not in FINAL:
            try:
                await c.billing.void(row.id, REASON_CANCELLED)
            except PeerUnavailable:
                raise errors.BillingUnavailable(
                    "The running job could not be cancelled right now; nothing was deleted. Please retry."
                ) from None
        shared = await store.inputs_used_elsewhere(user_id, row.id, list(row.input_file_ids))
        await store.delete_generation(row.id)
        await store.add_event(
            GenerationDeleted(
                generation_id=row.id,
                user_id=user_id,
                input_file_ids=[uuid.UUID(f) for f in row.input_file_ids if f not in shared],
                output_file_ids=[uuid.UUID(f) for f in row.output_file_ids],
            )
        )
        await request_cleanup(store, row)


async def request_cleanup(store: GenerationStore, row: Generation) -> uuid.UUID | None:
    """Publish ``ProviderCleanupRequested`` when the provider may hold data of ``row``."""
    if row.provider == "local" or not (row.provider_job_id or row.provider_file_ids):
        return None
    cleanup_id = uuid.uuid4()
    await store.add_event(
        ProviderCleanupRequested(
            cleanup_id=cleanup_id,
            provider=row.provider,
            provider_job_id=row.provider_job_id,
            provider_file_ids=list(row.provider_file_ids),
            generation_id=row.id,
            user_id=row.user_id,
        )
    )
    return cleanup_id


async def list_generations(
    c: GenerationContainer, user_id: uuid.UUID, limit: int, cursor: uuid.UUID | None
) -> list[GenerationOut]:
    """The user's generations, newest first, after ``cursor`` (one statement: no transaction)."""
    jobs = await c.stores.read(lambda store: store.list_generations(user_id, limit, cursor))
    return [view(c, job) for job in jobs]


async def get_generation(
    c: GenerationContainer, user_id: uuid.UUID, generation_id: uuid.UUID
) -> GenerationOut:
    """One of the user's generations."""
    async with c.stores.transaction() as store:
        job = await store.get_generation(generation_id, user_id=user_id)
    if job is None:
        raise errors.GenerationNotFound(NO_SUCH_GENERATION)
    return view(c, job)


def with_provider_job(job: Generation, job_id: str, file_ids: tuple[str, ...]) -> Generation:
    """``job`` as it stands once the provider accepted it (for a cleanup of an orphan)."""
    return replace(job, provider_job_id=job_id, provider_file_ids=file_ids)


def file_url(c: GenerationContainer, file_id: str) -> str:
    """Where the owner downloads a stored file."""
    return f"{c.settings.public_url.rstrip('/')}/v1/files/{file_id}"


def view(c: GenerationContainer, job: Generation) -> GenerationOut:
    """A generation as users see it (no provider internals)."""
    done = job.status == "completed"
    return GenerationOut(
        id=job.id,
        model=job.model,
        modality=job.modality,
        prompt=job.prompt,
        status=job.status,
        credits=job.credits,
        input_file_ids=list(job.input_file_ids),
        params=dict(job.params),
        outputs=[OutputOut(file_id=f, url=file_url(c, f)) for f in job.output_file_ids] if done else [],
        text=job.output_text if done else None,
        failure_reason=job.failure_reason if job.status == "failed" else None,
        repeat_of=job.repeat_of,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
