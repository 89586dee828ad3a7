"""Atlas Cloud (processor ``atlascloud``): video (e.g. Seedance) and images.

Endpoints (https://api.atlascloud.ai, ``Authorization: Bearer <key>``):

- ``POST /api/v1/model/generateVideo`` and ``POST /api/v1/model/generateImage`` body
  ``{"model", "prompt", "image"?, ...params}`` → ``{"code": 200, "data": {"id", "status"}}``.
- ``GET /api/v1/model/prediction/{id}`` → ``{"data": {"status": created|processing|
  completed|succeeded|failed, "outputs": [url], "error"}}``.

Every submit carries the retention headers ``X-AtlasCloud-Request-Retention-Hours: 0`` (the
request record, prompt included, is not kept) and ``X-AtlasCloud-Object-Expiration-Hours: 1``
(the shortest media lifetime they offer), so nothing remains to delete afterwards: the cleanup
strategy is ``retention-headers``.
"""

from __future__ import annotations

from typing import Any

import httpx

from .base import (
    JobSpec,
    JobStatus,
    Output,
    ProviderUnavailable,
    Submission,
    data_uri,
    send,
)

RETENTION_HEADERS = {"X-AtlasCloud-Request-Retention-Hours": "0", "X-AtlasCloud-Object-Expiration-Hours": "1"}


class AtlasCloud:
    """Adapter for Atlas Cloud's model API."""

    name = "atlascloud"

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
        """``generateVideo`` or ``generateImage``, with the retention headers."""
        path = "generateImage" if spec.modality == "image" else "generateVideo"
        body: dict[str, Any] = {**spec.params, "model": spec.provider_model, "prompt": spec.prompt}
        images = [data_uri(i.content_type, i.data) for i in spec.inputs if i.kind == "image"]
        if images:
            body["image"] = images[0]
        response = await send(
            self._client,
            "POST",
            f"/api/v1/model/{path}",
            self.name,
            json=body,
            headers={**self._auth, **RETENTION_HEADERS},
        )
        job_id = (response.json().get("data") or {}).get("id")
        if not job_id:
            raise ProviderUnavailable("atlascloud: answer without a prediction id")
        return Submission(job_id=str(job_id))

    async def status(self, job_id: str) -> JobStatus:
        """``GET /api/v1/model/prediction/{id}``."""
        response = await send(
            self._client, "GET", f"/api/v1/model/prediction/{job_id}", self.name, headers=self._auth
        )
        data = response.json().get("data") or {}
        state = data.get("status")
        if state in ("completed", "succeeded"):
            return JobStatus("succeeded", tuple(Output(url=u) for u in data.get("outputs", [])))
        if state == "failed":
            return JobStatus("failed", error=str(data.get("error") or "The job failed."))
        return JobStatus("running")

    async def download(self, output: Output) -> bytes:
        """Output URLs are short-lived public links."""
        if output.data is not None:
            return output.data
        response = await send(self._results, "GET", str(output.url), self.name)
        return response.content

    async def cleanup(self, job_id: str | None, file_ids: tuple[str, ...]) -> str:
        """Nothing to call: the retention headers made Atlas Cloud keep nothing."""
        return "retention-headers"
