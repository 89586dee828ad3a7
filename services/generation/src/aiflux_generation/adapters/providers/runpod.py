"""RunPod Serverless (processor ``runpod``): TTS and animated video on our own endpoints.

Endpoints (https://api.runpod.ai, ``Authorization: Bearer <key>``; ``{endpoint}`` is the
catalog's ``provider_model``):

- ``POST /v2/{endpoint}/run`` body ``{"input": {...}, "webhook": url?}`` → ``{"id", "status":
  "IN_QUEUE"}``.
- ``GET /v2/{endpoint}/status/{id}`` → ``{"id", "status": IN_QUEUE|IN_PROGRESS|COMPLETED|
  FAILED|CANCELLED|TIMED_OUT, "output"?, "error"?}``.
- ``POST /v2/{endpoint}/cancel/{id}`` → ``{"id", "status": "CANCELLED"}``.

Our workers take ``input = {prompt, params, files: [{kind, content_type, data_base64}]}`` and
answer ``output = {"files": [{"content_type", "data_base64"} | {"content_type", "url"}]}``.
RunPod deletes a job's inputs and results at completion (policy §6), so cleanup only cancels
jobs still running. Its webhooks are unsigned: the URL carries a per-job secret and we re-read
the status before acting.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from .base import (
    JobSpec,
    JobStatus,
    Output,
    ProviderRejected,
    ProviderUnavailable,
    Submission,
    send,
)

RUNNING = frozenset({"IN_QUEUE", "IN_PROGRESS"})


class RunPod:
    """Adapter for RunPod Serverless (v2)."""

    name = "runpod"

    def __init__(self, client: httpx.AsyncClient, api_key: str) -> None:
        self._client = client
        self._auth = {"Authorization": f"Bearer {api_key}"}

    async def submit(self, spec: JobSpec) -> Submission:
        """``POST /v2/{endpoint}/run``; the job id we keep is ``{endpoint}/{id}``."""
        files = [
            {"kind": i.kind, "content_type": i.content_type, "data_base64": base64.b64encode(i.data).decode()}
            for i in spec.inputs
        ]
        body: dict[str, Any] = {"input": {"prompt": spec.prompt, "params": spec.params, "files": files}}
        if spec.webhook_url:
            body["webhook"] = spec.webhook_url
        response = await send(
            self._client, "POST", f"/v2/{spec.provider_model}/run", self.name, json=body, headers=self._auth
        )
        job_id = response.json().get("id")
        if not job_id:
            raise ProviderUnavailable("runpod: answer without a job id")
        return Submission(job_id=f"{spec.provider_model}/{job_id}")

    async def status(self, job_id: str) -> JobStatus:
        """``GET /v2/{endpoint}/status/{id}``."""
        endpoint, _, run_id = job_id.partition("/")
        response = await send(
            self._client, "GET", f"/v2/{endpoint}/status/{run_id}", self.name, headers=self._auth
        )
        body = response.json()
        state = body.get("status")
        if state in RUNNING:
            return JobStatus("running")
        if state == "COMPLETED":
            files = (body.get("output") or {}).get("files", [])
            return JobStatus("succeeded", tuple(_output(f) for f in files))
        if state == "TIMED_OUT":
            return JobStatus("failed", error="The provider timed out.")
        return JobStatus("failed", error=str(body.get("error") or "The job failed."))

    async def download(self, output: Output) -> bytes:
        """Inline base64 results, or a result URL."""
        if output.data is not None:
            return output.data
        response = await send(self._client, "GET", str(output.url), self.name)
        return response.content

    async def cleanup(self, job_id: str | None, file_ids: tuple[str, ...]) -> str:
        """Cancel the job if it still runs; RunPod removed the data of finished jobs."""
        if not job_id:
            return "nothing-to-delete"
        endpoint, _, run_id = job_id.partition("/")
        try:
            current = await self.status(job_id)
        except ProviderRejected:
            return "deleted-at-completion"  # unknown to RunPod any more
        if current.state != "running":
            return "deleted-at-completion"
        await send(self._client, "POST", f"/v2/{endpoint}/cancel/{run_id}", self.name, headers=self._auth)
        return "cancel-job"


def _output(item: dict[str, Any]) -> Output:
    if "data_base64" in item:
        return Output(content_type=item.get("content_type"), data=base64.b64decode(item["data_base64"]))
    return Output(content_type=item.get("content_type"), url=item.get("url"))
