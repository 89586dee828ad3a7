"""WaveSpeed AI (processor ``wavespeed``): images and videos.

Endpoints (https://api.wavespeed.ai, ``Authorization: Bearer <key>``):

- ``POST /api/v3/{model}`` body ``{prompt, image?, ...params}``, optional ``?webhook=<url>``
  → ``{"code": 200, "data": {"id", "status": "created", "outputs": []}}``.
- ``GET /api/v3/predictions/{id}`` → ``{"data": {"id", "status":
  created|processing|completed|failed, "outputs": [url, ...], "error": str}}``.
- ``POST /api/v3/predictions/delete`` body ``{"ids": [id, ...]}`` → removes predictions and
  their outputs on WaveSpeed's side (our cleanup strategy ``delete-predictions``).
- Webhooks: ``POST`` to our URL with headers ``webhook-id``, ``webhook-timestamp`` (unix
  seconds) and ``webhook-signature: v3,<hex>`` where hex is HMAC-SHA256 over
  ``"{id}.{timestamp}.{raw body}"`` keyed with the webhook secret (``whsec_`` prefix removed).

Reference images travel inline as ``data:`` URIs, so nothing is uploaded separately.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from typing import Any

import httpx
from aiflux_kit.constant_time import ascii_int, equal

from .base import (
    JobSpec,
    JobStatus,
    Output,
    ProviderRejected,
    ProviderUnavailable,
    Submission,
    data_uri,
    send,
)

WEBHOOK_TOLERANCE_S = 300


class WaveSpeed:
    """Adapter for WaveSpeed AI's v3 API."""

    name = "wavespeed"

    def __init__(
        self,
        client: httpx.AsyncClient,
        api_key: str,
        results: httpx.AsyncClient | None = None,
    ) -> None:
        self._client = client
        self._auth = {"Authorization": f"Bearer {api_key}"}
        # Outputs come from CDN hosts outside the registry: fetched by the kit's result client.
        self._results = results or client

    async def submit(self, spec: JobSpec) -> Submission:
        """``POST /api/v3/{model}``."""
        body: dict[str, Any] = {**spec.params, "prompt": spec.prompt}
        images = [data_uri(i.content_type, i.data) for i in spec.inputs if i.kind == "image"]
        if images:
            body["image"] = images[0]
        query = {"webhook": spec.webhook_url} if spec.webhook_url else None
        response = await send(
            self._client,
            "POST",
            f"/api/v3/{spec.provider_model}",
            self.name,
            json=body,
            params=query,
            headers=self._auth,
        )
        job_id = _data(response).get("id")
        if not job_id:
            raise ProviderUnavailable("wavespeed: answer without a prediction id")
        return Submission(job_id=str(job_id))

    async def status(self, job_id: str) -> JobStatus:
        """``GET /api/v3/predictions/{id}``."""
        response = await send(
            self._client, "GET", f"/api/v3/predictions/{job_id}", self.name, headers=self._auth
        )
        data = _data(response)
        state = data.get("status")
        if state == "completed":
            return JobStatus("succeeded", tuple(Output(url=u) for u in data.get("outputs", [])))
        if state == "failed":
            return JobStatus("failed", error=str(data.get("error") or "generation failed"))
        return JobStatus("running")

    async def download(self, output: Output) -> bytes:
        """Output URLs are public CDN links: no credentials sent."""
        if output.data is not None:
            return output.data
        response = await send(self._results, "GET", str(output.url), self.name)
        return response.content

    async def cleanup(self, job_id: str | None, file_ids: tuple[str, ...]) -> str:
        """Delete the prediction (and its outputs); an unknown one is already gone."""
        if not job_id:
            return "nothing-to-delete"
        with contextlib.suppress(ProviderRejected):  # 404: deleted before (a repeat)
            await send(
                self._client,
                "POST",
                "/api/v3/predictions/delete",
                self.name,
                json={"ids": [job_id]},
                headers=self._auth,
            )
        return "delete-predictions"


def _data(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ProviderUnavailable("wavespeed: answer is not JSON") from None
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def sign_webhook(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` header value WaveSpeed sends for ``body``."""
    key = secret.removeprefix("whsec_").encode()
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v3," + hmac.new(key, signed, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """True when the signature matches and the timestamp is fresh (replays are refused)."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signature = headers.get("webhook-signature", "")
    sent_at = ascii_int(timestamp)
    if not (webhook_id and sent_at is not None and signature):
        return False
    if abs(time.time() - sent_at) > WEBHOOK_TOLERANCE_S:
        return False
    expected = sign_webhook(secret, webhook_id, timestamp, body)
    return any(equal(expected, candidate.strip()) for candidate in signature.split(" "))
