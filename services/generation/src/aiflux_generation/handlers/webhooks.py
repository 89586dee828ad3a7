"""Provider webhooks: only a signal to re-read the job's status soon.

WaveSpeed signs its webhooks (HMAC); RunPod does not, so each RunPod job gets a callback URL
with its own secret token, and the status is re-read from RunPod before anything happens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from aiflux_kit.constant_time import equal

from ..adapters import repository as repo
from ..adapters.providers.wavespeed import verify_webhook
from ..domain import errors
from ..settings import GenerationSettings

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer


def runpod_token(settings: GenerationSettings, generation_id: uuid.UUID) -> str:
    """The per-job secret in RunPod's callback URL."""
    key = settings.runpod_webhook_secret.get_secret_value().encode()
    return hmac.new(key, f"runpod:{generation_id}".encode(), hashlib.sha256).hexdigest()


def webhook_url(settings: GenerationSettings, provider: str, generation_id: uuid.UUID) -> str | None:
    """Where ``provider`` should call back for this job, or None (polling only)."""
    base = settings.webhook_base_url.rstrip("/")
    if not base:
        return None
    if provider == "wavespeed":
        return f"{base}/v1/generation/webhooks/wavespeed"
    if provider == "runpod":
        token = runpod_token(settings, generation_id)
        return f"{base}/v1/generation/webhooks/runpod/{generation_id}/{token}"
    return None


async def wavespeed_webhook(c: GenerationContainer, headers: dict[str, str], body: bytes) -> None:
    """Verify the signature, then make the named prediction due for a status read."""
    secret = c.settings.wavespeed_webhook_secret.get_secret_value()
    if not verify_webhook(secret, headers, body):
        raise errors.WebhookSignatureInvalid("The webhook signature is missing, stale or does not match.")
    try:
        prediction_id = str(json.loads(body)["id"])
    except (ValueError, KeyError, TypeError):
        raise errors.WebhookMalformed("The webhook body carries no prediction id.") from None
    await _recheck(c, "wavespeed", provider_job_id=prediction_id)


async def runpod_webhook(c: GenerationContainer, generation_id: uuid.UUID, token: str) -> None:
    """Check the URL's token, then make the job due for a status read."""
    if not equal(runpod_token(c.settings, generation_id), token):
        raise errors.WebhookNotFound("No such webhook.")
    await _recheck(c, "runpod", generation_id=generation_id)


async def _recheck(
    c: GenerationContainer,
    provider: str,
    *,
    provider_job_id: str | None = None,
    generation_id: uuid.UUID | None = None,
) -> None:
    # A job waiting out a poll backoff is due within poll_max_s; one further out is leased to
    # a worker right now and must not be handed to a second one.
    backoff = timedelta(seconds=c.settings.poll_max_s * 1.25)
    async with c.database.transaction() as session:
        await repo.make_running_job_due(
            session, provider, backoff, provider_job_id=provider_job_id, generation_id=generation_id
        )
    c.wake.set()
