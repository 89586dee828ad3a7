"""The job worker: submit, poll with backoff, store outputs, capture or void, announce.

Each pass claims due jobs with ``FOR UPDATE SKIP LOCKED`` and a lease (``next_check_at`` moves
past the lease), so several workers share the work and a crashed worker's jobs come back when
the lease ends. Every step is saved before the next starts: the provider job id right after the
submit, each stored output right after its upload, the failure reason before the void; the
final status change is conditional, so ``GenerationCompleted``/``GenerationFailed`` go out once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiflux_contracts import GenerationCompleted, GenerationDeleted, GenerationFailed
from aiflux_kit.outbox import add_event
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random

from ..adapters import repository as repo
from ..adapters.media import as_modality
from ..adapters.providers.base import (
    JobSpec,
    JobStatus,
    NotSent,
    Output,
    ProviderBusy,
    ProviderError,
    ProviderInput,
    ProviderRejected,
    ProviderUnavailable,
    Submission,
)
from ..adapters.storage_client import OutputRefused
from ..domain.jobs import (
    REASON_INPUT_GONE,
    REASON_INTERRUPTED,
    REASON_NO_OUTPUT,
    REASON_TIMEOUT,
    REASON_UNAVAILABLE,
    REASON_UNKEEPABLE,
    failure_text,
    output_filename,
    poll_delay,
    sniff_content_type,
)
from ..domain.records import Generation
from .requests import request_cleanup, with_provider_job
from .webhooks import webhook_url

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer

log = logging.getLogger(__name__)


class InputGone(Exception):
    """An input file was deleted before the job was sent."""


class JobWorker:
    """Moves queued and running jobs forward."""

    def __init__(self, container: GenerationContainer) -> None:
        self.c = container

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop``; wake early when a job is created or a webhook arrives."""
        while not stop.is_set():
            try:
                claimed = await self.tick()
            except Exception:
                log.exception("generation worker pass failed")
                claimed = 0
            if claimed == 0:
                self.c.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.c.wake.wait(), self.c.settings.worker_interval_s)

    async def tick(self) -> int:
        """One pass: claim due jobs and advance each; returns how many were claimed."""
        async with self.c.database.transaction() as session:
            rows = await repo.claim_due(session, self.c.settings.worker_batch, self.c.settings.lease_s)
        await asyncio.gather(*(self._advance_safely(row) for row in rows))
        return len(rows)

    async def _advance_safely(self, row: Generation) -> None:
        try:
            await self.advance(row)
        except Exception:
            log.exception("job step failed", extra={"generation_id": str(row.id)})
            await self._later(row.id, self.c.settings.poll_initial_s)

    async def advance(self, row: Generation) -> None:
        """Take the next step of one job."""
        if row.failure_reason:
            await self._fail(row, row.failure_reason)
        elif datetime.now(UTC) > row.deadline_at:
            await self._fail(row, REASON_TIMEOUT)
        elif row.status == "queued":
            await self._submit(row)
        elif row.outputs_stored:
            await self._complete(row)
        else:
            await self._poll(row)

    # --- submit ---------------------------------------------------------------------------

    async def _submit(self, row: Generation) -> None:
        if row.submit_started_at is not None:
            # A submit began and its outcome was never saved: the provider may hold a job we
            # cannot see, and resending could run (and bill) it twice.
            await self._fail(row, REASON_INTERRUPTED)
            return
        if self.c.breakers.is_open(row.provider):
            await self._later(row.id, self.c.settings.poll_max_s)
            return
        try:
            spec = await self._spec(row)
        except InputGone:
            await self._fail(row, REASON_INPUT_GONE)
            return
        if await self._update(row.id, submit_started_at=datetime.now(UTC)) is None:
            return
        try:
            submission = await self._send(row.provider, spec)
        except (NotSent, ProviderBusy):
            # Nothing reached the provider (or it refused to take it): safe to try again.
            await self._update(
                row.id,
                submit_started_at=None,
                next_check_at=_after(self._delay(row)),
                poll_count=row.poll_count + 1,
            )
            return
        except ProviderError as exc:
            await self._submit_failed(row, exc)
            return
        await self._submitted(row, submission)

    async def _spec(self, row: Generation) -> JobSpec:
        inputs = []
        for file_id in row.input_file_ids:
            info = await self.c.storage.file_info(uuid.UUID(file_id))
            if info is None:
                raise InputGone(file_id)
            data = await self.c.storage.content(info.file_id)
            inputs.append(ProviderInput(info.file_id, info.kind, info.content_type, data))
        model = self.c.catalog.get(row.model)
        # Only the catalog's accepted, priced params reach the provider, with counts pinned;
        # a model since removed from the catalog gets none.
        params = model.provider_params(row.params) if model is not None else {}
        return JobSpec(
            generation_id=row.id,
            modality=row.modality,
            provider_model=row.provider_model,
            prompt=row.prompt,
            params=params,
            inputs=tuple(inputs),
            webhook_url=webhook_url(self.c.settings, row.provider, row.id),
        )

    async def _send(self, provider: str, spec: JobSpec) -> Submission:
        """Submit; resend only when the connection failed before anything was sent."""
        adapter = self.c.providers[provider]
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(NotSent),
            stop=stop_after_attempt(3),
            wait=wait_random(0.1, 0.5),
            reraise=True,
        ):
            with attempt:
                result: Submission = await self.c.breakers.call(provider, adapter.submit, spec)
                return result
        raise AssertionError("unreachable")

    async def _submit_failed(self, row: Generation, exc: ProviderError) -> None:
        reason = failure_text(str(exc)) if isinstance(exc, ProviderRejected) else REASON_UNAVAILABLE
        saved = await self._update(row.id, provider_file_ids=list(exc.file_ids), failure_reason=reason)
        if saved is not None:
            await self._fail(saved, reason)

    async def _submitted(self, row: Generation, submission: Submission) -> None:
        saved = await self._update(
            row.id,
            status="running",
            provider_job_id=submission.job_id,
            provider_file_ids=list(submission.file_ids),
            poll_count=0,
            next_check_at=_after(self.c.settings.poll_initial_s),
        )
        if saved is None:
            await self._orphaned(row, submission)
        elif submission.status is not None:
            await self._handle_status(saved, submission.status)

    async def _orphaned(self, row: Generation, submission: Submission) -> None:
        """The job was deleted while it was being sent: clean its provider side up."""
        async with self.c.database.transaction() as session:
            orphan = with_provider_job(row, submission.job_id, submission.file_ids)
            await request_cleanup(self.c.stores.bound(session), orphan)

    # --- poll -----------------------------------------------------------------------------

    async def _poll(self, row: Generation) -> None:
        adapter = self.c.providers[row.provider]
        try:
            status: JobStatus = await self.c.breakers.call(row.provider, adapter.status, row.provider_job_id)
        except (ProviderBusy, ProviderUnavailable):
            await self._update(row.id, poll_count=row.poll_count + 1, next_check_at=_after(self._delay(row)))
            return
        except ProviderRejected as exc:
            await self._fail(row, failure_text(str(exc)))
            return
        await self._handle_status(row, status)

    async def _handle_status(self, row: Generation, status: JobStatus) -> None:
        if status.state == "running":
            await self._update(row.id, poll_count=row.poll_count + 1, next_check_at=_after(self._delay(row)))
        elif status.state == "failed":
            await self._fail(row, failure_text(status.error))
        elif not status.outputs:
            await self._fail(row, REASON_NO_OUTPUT)
        elif row.modality == "text":
            await self._keep_text(row, status)
        else:
            try:
                stored = await self._store_outputs(row, status)
            except OutputRefused:
                await self._fail(row, REASON_UNKEEPABLE)
                return
            if stored is not None:
                await self._complete(stored)

    async def _keep_text(self, row: Generation, status: JobStatus) -> None:
        """Text results live on the row (storage keeps media files only)."""
        adapter = self.c.providers[row.provider]
        parts = [await adapter.download(output) for output in self._priced(row, status)]
        text = b"".join(parts).decode("utf-8", errors="replace")
        saved = await self._update(row.id, output_text=text, outputs_stored=True)
        if saved is not None:
            await self._complete(saved)

    async def _store_outputs(self, row: Generation, status: JobStatus) -> Generation | None:
        """Copy the priced outputs into storage (provider URLs expire); skip ones already
        copied. Extra results a provider made anyway are not kept (nor paid for)."""
        adapter = self.c.providers[row.provider]
        file_ids = list(row.output_file_ids)
        for index, output in enumerate(self._priced(row, status)):
            if index < len(file_ids):
                continue
            data = await self.c.breakers.call(row.provider, adapter.download, output)
            content_type, data = await asyncio.to_thread(
                as_modality, row.modality, sniff_content_type(data, output.content_type), data
            )
            file_id = await self.c.storage.store_output(
                row.user_id, row.id, output_filename(index, content_type), content_type, data
            )
            file_ids.append(str(file_id))
            if await self._update(row.id, output_file_ids=file_ids) is None:
                await self._outputs_orphaned(row, file_ids)
                return None
        return await self._update(row.id, outputs_stored=True)

    async def _outputs_orphaned(self, row: Generation, file_ids: list[str]) -> None:
        async with self.c.database.transaction() as session:
            await add_event(
                session,
                GenerationDeleted(
                    generation_id=row.id,
                    user_id=row.user_id,
                    input_file_ids=[],
                    output_file_ids=[uuid.UUID(f) for f in file_ids],
                ),
            )

    def _priced(self, row: Generation, status: JobStatus) -> tuple[Output, ...]:
        """The outputs the job's price covers (one unless the catalog prices more)."""
        model = self.c.catalog.get(row.model)
        return status.outputs[: model.outputs if model is not None else 1]

    # --- settle ---------------------------------------------------------------------------

    async def _complete(self, row: Generation) -> None:
        """Capture the credits, then mark completed and announce it, once."""
        await self.c.billing.capture(row.id)
        async with self.c.database.transaction() as session:
            done = await repo.update_generation(
                session, row.id, only_active=True, status="completed", finished_at=datetime.now(UTC)
            )
            if done is None:
                return
            await add_event(
                session,
                GenerationCompleted(
                    generation_id=row.id,
                    user_id=row.user_id,
                    credits=row.credits,
                    output_file_ids=[uuid.UUID(f) for f in done.output_file_ids],
                ),
            )
            await request_cleanup(self.c.stores.bound(session), done)

    async def _fail(self, row: Generation, reason: str) -> None:
        """Save the reason, void the hold (at most once in billing), announce once."""
        if row.failure_reason != reason:
            await self._update(row.id, failure_reason=reason)
        await self.c.billing.void(row.id, reason)
        async with self.c.database.transaction() as session:
            done = await repo.update_generation(
                session, row.id, only_active=True, status="failed", finished_at=datetime.now(UTC)
            )
            if done is None:
                return
            await add_event(
                session, GenerationFailed(generation_id=row.id, user_id=row.user_id, reason=reason)
            )
            await request_cleanup(self.c.stores.bound(session), done)

    # --- helpers --------------------------------------------------------------------------

    def _delay(self, row: Generation) -> float:
        s = self.c.settings
        return poll_delay(row.poll_count, s.poll_initial_s, s.poll_max_s)

    async def _update(self, generation_id: uuid.UUID, **values: Any) -> Generation | None:
        async with self.c.database.transaction() as session:
            return await repo.update_generation(session, generation_id, only_active=True, **values)

    async def _later(self, generation_id: uuid.UUID, seconds: float) -> None:
        with contextlib.suppress(Exception):
            await self._update(generation_id, next_check_at=_after(seconds))


def _after(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
