"""The fast tier: generation's handlers with in-memory billing, storage and store, handed to
``bootstrap.build`` (no PostgreSQL, no broker, no HTTP server)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiflux_contracts import (
    ErasureVerificationRequested,
    ExportRequested,
    GenerationDeleted,
    GenerationRequested,
    ProviderCleanupRequested,
    UserDeleted,
)
from aiflux_contracts.base import Event
from aiflux_contracts.receipts import ErasureCompleted, ErasureVerified, ExportPartReady
from aiflux_generation.adapters.fakes import InMemoryBilling, InMemoryStorage
from aiflux_generation.adapters.memory_store import InMemoryStore, InMemoryStores
from aiflux_generation.bootstrap import GenerationContainer, build
from aiflux_generation.domain import errors
from aiflux_generation.handlers import erasure, export, requests
from aiflux_generation.settings import GenerationSettings
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.service import Platform

pytestmark = pytest.mark.unit


@dataclass
class Fakes:
    """The container built with fakes, and the fakes to look into."""

    c: GenerationContainer
    billing: InMemoryBilling
    storage: InMemoryStorage
    store: InMemoryStore


@dataclass
class FakeContext:
    """A consumer's context: what a handler publishes lands in the store's outbox."""

    store: InMemoryStore
    session: Any = None
    published: list[Event] = field(default_factory=list)

    async def publish(self, event: Event) -> None:
        self.published.append(event)


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    settings = GenerationSettings(
        env="test",
        offline=False,
        public_url="https://aiflux.example",
        wavespeed_webhook_secret="whsec_unit",
        runpod_webhook_secret="rp-unit",
        submit_rate_limit="1000/minute",
    )
    platform = Platform(
        mode="embedded",
        broker=None,  # type: ignore[arg-type]
        limiter=RateLimiter.from_url(None),
        data_dir=tmp_path,
    )
    billing, storage, stores = InMemoryBilling(), InMemoryStorage(), InMemoryStores()
    unit = build(platform, settings, billing=billing, storage=storage, stores=stores)
    return Fakes(unit.container, billing, storage, stores.store)


async def _start(f: Fakes, user_id: uuid.UUID, prompt: str = "a fox", **kwargs: Any) -> uuid.UUID:
    return await requests.start_generation(
        f.c, user_id, "flux-dev", prompt, kwargs.pop("inputs", []), kwargs.pop("params", {})
    )


async def test_a_generation_holds_its_price_and_is_saved_with_its_event(fakes: Fakes) -> None:
    user_id = uuid.uuid4()
    fakes.billing.balances[user_id] = 100
    generation_id = await _start(fakes, user_id)
    job = fakes.store.jobs[generation_id]
    assert (job.status, job.prompt, job.user_id) == ("queued", "a fox", user_id)
    assert fakes.billing.available(user_id) == 100 - job.credits
    [requested] = fakes.store.events(GenerationRequested)
    assert (requested.generation_id, requested.credits) == (generation_id, job.credits)


async def test_without_enough_credits_nothing_is_saved(fakes: Fakes) -> None:
    user_id = uuid.uuid4()
    fakes.billing.balances[user_id] = 0
    with pytest.raises(errors.InsufficientCredits):
        await _start(fakes, user_id)
    assert fakes.store.jobs == {} and fakes.store.outbox == []


async def test_a_restricted_or_erased_user_starts_nothing(fakes: Fakes) -> None:
    restricted, erased = uuid.uuid4(), uuid.uuid4()
    fakes.billing.balances.update({restricted: 100, erased: 100})
    fakes.store.restricted.add(restricted)
    fakes.store.erased.add(erased)
    with pytest.raises(errors.ProcessingRestricted):
        await _start(fakes, restricted)
    with pytest.raises(errors.AccountErased):
        await _start(fakes, erased)
    assert fakes.store.jobs == {}
    assert fakes.billing.available(restricted) == fakes.billing.available(erased) == 100


async def test_deleting_a_running_job_voids_its_hold_and_asks_for_cleanup(fakes: Fakes) -> None:
    user_id = uuid.uuid4()
    fakes.billing.balances[user_id] = 100
    generation_id = await _start(fakes, user_id)
    job = fakes.store.jobs[generation_id]
    fakes.store.jobs[generation_id] = replace(
        job, status="running", provider="wavespeed", provider_job_id="pred-1"
    )
    await requests.delete_generation(fakes.c, user_id, generation_id)
    assert generation_id not in fakes.store.jobs
    assert fakes.billing.voids == {generation_id: 1}
    assert fakes.billing.available(user_id) == 100
    [deleted] = fakes.store.events(GenerationDeleted)
    assert deleted.generation_id == generation_id
    [cleanup] = fakes.store.events(ProviderCleanupRequested)
    assert (cleanup.provider, cleanup.provider_job_id) == ("wavespeed", "pred-1")
    with pytest.raises(errors.GenerationNotFound):
        await requests.get_generation(fakes.c, user_id, generation_id)


async def test_erasure_deletes_everything_and_waits_for_provider_cleanups(fakes: Fakes) -> None:
    user_id, other = uuid.uuid4(), uuid.uuid4()
    fakes.billing.balances.update({user_id: 100, other: 100})
    running = await _start(fakes, user_id, prompt="my secret prompt")
    kept = await _start(fakes, other)
    job = fakes.store.jobs[running]
    fakes.store.jobs[running] = replace(job, status="running", provider="wavespeed", provider_job_id="pred-9")
    fakes.store.restricted.add(user_id)
    fakes.store.outbox.clear()
    ctx = FakeContext(fakes.store)
    event = UserDeleted(user_id=user_id, request_id=uuid.uuid4())

    await erasure.on_user_deleted(fakes.c, ctx, event)  # type: ignore[arg-type]

    assert await fakes.store.is_erased(user_id)
    assert list(fakes.store.jobs) == [kept]
    assert user_id not in fakes.store.restricted
    assert fakes.billing.voids == {running: 1}
    [cleanup] = fakes.store.events(ProviderCleanupRequested)
    assert cleanup.provider_job_id == "pred-9"
    # The receipt waits until the provider confirmed the cleanup.
    assert fakes.store.events(ErasureCompleted["generation"]) == []
    run = fakes.store.erasures[event.request_id]
    assert run.deleted == {"generations": 1, "prompts": 1, "processing_restrictions": 1}
    assert "my secret prompt" not in json.dumps([str(e) for e in fakes.store.outbox])


async def test_erasure_without_provider_jobs_sends_its_receipt_and_verifies_clean(fakes: Fakes) -> None:
    user_id = uuid.uuid4()
    fakes.billing.balances[user_id] = 100
    await _start(fakes, user_id)  # queued: never reached a provider
    request_id = uuid.uuid4()
    ctx = FakeContext(fakes.store)
    await erasure.on_user_deleted(
        fakes.c,
        ctx,  # type: ignore[arg-type]
        UserDeleted(user_id=user_id, request_id=request_id),
    )
    [receipt] = fakes.store.events(ErasureCompleted["generation"])
    assert (receipt.request_id, receipt.deleted["generations"]) == (request_id, 1)
    assert fakes.store.erasures[request_id].user_id is None  # forgotten with the receipt

    await erasure.on_erasure_verification(  # type: ignore[arg-type]
        fakes.c, ctx, ErasureVerificationRequested(request_id=request_id, user_id=user_id)
    )
    [verified] = [e for e in ctx.published if isinstance(e, ErasureVerified["generation"])]
    assert verified.remaining["generations"] == 0
    assert verified.remaining["provider_cleanups_pending"] == 0


async def test_export_writes_the_users_generations_as_the_api_shows_them(fakes: Fakes) -> None:
    user_id = uuid.uuid4()
    fakes.billing.balances[user_id] = 100
    image = fakes.storage.add_input(user_id, "image/png", b"\x89PNG")
    generation_id = await requests.start_generation(fakes.c, user_id, "flux-dev", "make it blue", [image], {})
    ctx = FakeContext(fakes.store)
    request_id = uuid.uuid4()

    await export.on_export_requested(
        fakes.c,
        ctx,  # type: ignore[arg-type]
        ExportRequested(request_id=request_id, user_id=user_id),
    )

    part = json.loads(fakes.storage.exports[f"exports/{request_id}/generation.json"])
    [shown] = part["generations"]
    assert (shown["id"], shown["prompt"]) == (str(generation_id), "make it blue")
    assert shown["inputs"] == [{"file_id": str(image), "url": f"https://aiflux.example/v1/files/{image}"}]
    assert "provider_job_id" not in shown
    [ready] = ctx.published
    assert isinstance(ready, ExportPartReady["generation"])
    assert ready.objects == ["generation.json"]


async def test_an_erased_users_export_writes_no_part(fakes: Fakes) -> None:
    user_id = uuid.uuid4()
    fakes.store.erased.add(user_id)
    ctx = FakeContext(fakes.store)
    await export.on_export_requested(
        fakes.c,
        ctx,  # type: ignore[arg-type]
        ExportRequested(request_id=uuid.uuid4(), user_id=user_id),
    )
    assert fakes.storage.exports == {} and ctx.published == []
