"""Google Gemini API (processor ``gemini``): images and text inline, videos (Veo) as
long-running operations, reference files through the Files API.

Endpoints (https://generativelanguage.googleapis.com, header ``x-goog-api-key``):

- Files API upload, resumable: ``POST /upload/v1beta/files`` with ``X-Goog-Upload-Protocol:
  resumable``, ``X-Goog-Upload-Command: start``, ``X-Goog-Upload-Header-Content-Length`` and
  ``-Content-Type``, body ``{"file": {"display_name"}}`` → header ``X-Goog-Upload-URL``; then
  ``POST <that URL>`` with ``X-Goog-Upload-Command: upload, finalize`` and
  ``X-Goog-Upload-Offset: 0``, body = bytes → ``{"file": {"name": "files/..", "uri", ...}}``.
- ``DELETE /v1beta/{files/..}``: delete an uploaded file (cleanup strategy ``delete-files``).
- ``POST /v1beta/models/{model}:generateContent`` body ``{"contents": [{"parts": [{"text"},
  {"file_data": {"mime_type", "file_uri"}}]}], "generationConfig": {"responseModalities"}}``
  → ``{"candidates": [{"content": {"parts": [{"text"} | {"inlineData": {"mimeType",
  "data"}}]}}]}`` (results inline, base64).
- ``POST /v1beta/models/{model}:predictLongRunning`` body ``{"instances": [{"prompt"}]}``
  → ``{"name": "models/../operations/.."}``; ``GET /v1beta/{name}`` → ``{"done", "error"?,
  "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri"}}]}}}``;
  the video ``uri`` is downloaded with the API key.
"""

from __future__ import annotations

import base64
import contextlib
from typing import Any

import httpx

from .base import (
    JobSpec,
    JobStatus,
    Output,
    ProviderError,
    ProviderInput,
    ProviderRejected,
    ProviderUnavailable,
    Submission,
    send,
)

INLINE_PREFIX = "inline:"


class Gemini:
    """Adapter for the Gemini API (v1beta)."""

    name = "gemini"

    def __init__(self, client: httpx.AsyncClient, api_key: str, base_url: str) -> None:
        self._client = client
        self._auth = {"x-goog-api-key": api_key}
        self._base_url = base_url.rstrip("/")

    async def submit(self, spec: JobSpec) -> Submission:
        """Video: start an operation. Image/text: upload inputs, generate inline."""
        if spec.modality == "video":
            return await self._start_operation(spec)
        uploaded: list[dict[str, Any]] = []
        try:
            for item in spec.inputs:
                uploaded.append(await self._upload(spec, item))
            status = await self._generate(spec, uploaded)
        except ProviderError as exc:
            exc.file_ids = tuple(f["name"] for f in uploaded)
            raise
        return Submission(
            job_id=f"{INLINE_PREFIX}{spec.generation_id}",
            file_ids=tuple(f["name"] for f in uploaded),
            status=status,
        )

    async def _upload(self, spec: JobSpec, item: ProviderInput) -> dict[str, Any]:
        start = await send(
            self._client,
            "POST",
            "/upload/v1beta/files",
            self.name,
            headers={
                **self._auth,
                "X-Goog-Upload-Protocol": "resumable",
                "X-Goog-Upload-Command": "start",
                "X-Goog-Upload-Header-Content-Length": str(len(item.data)),
                "X-Goog-Upload-Header-Content-Type": item.content_type,
            },
            json={"file": {"display_name": f"{spec.generation_id}-{item.file_id}"}},
        )
        upload_url = start.headers.get("x-goog-upload-url")
        if not upload_url:
            raise ProviderUnavailable("gemini: upload session without URL")
        done = await send(
            self._client,
            "POST",
            upload_url,
            self.name,
            content=item.data,
            headers={**self._auth, "X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"},
        )
        file: dict[str, Any] = done.json().get("file", {})
        if not file.get("name"):
            raise ProviderUnavailable("gemini: upload answer without a file name")
        return file

    async def _generate(self, spec: JobSpec, files: list[dict[str, Any]]) -> JobStatus:
        parts: list[dict[str, Any]] = [{"text": spec.prompt}]
        parts += [{"file_data": {"mime_type": f.get("mimeType"), "file_uri": f.get("uri")}} for f in files]
        modalities = ["TEXT", "IMAGE"] if spec.modality == "image" else ["TEXT"]
        response = await send(
            self._client,
            "POST",
            f"/v1beta/models/{spec.provider_model}:generateContent",
            self.name,
            headers=self._auth,
            json={"contents": [{"parts": parts}], "generationConfig": {"responseModalities": modalities}},
        )
        return _inline_result(response.json(), spec.modality)

    async def _start_operation(self, spec: JobSpec) -> Submission:
        response = await send(
            self._client,
            "POST",
            f"/v1beta/models/{spec.provider_model}:predictLongRunning",
            self.name,
            headers=self._auth,
            json={
                "instances": [{"prompt": spec.prompt}],
                # One video per job, whatever else is set: the price covers one.
                "parameters": {**spec.params, "sampleCount": 1},
            },
        )
        name = response.json().get("name")
        if not name:
            raise ProviderUnavailable("gemini: operation without a name")
        return Submission(job_id=str(name))

    async def status(self, job_id: str) -> JobStatus:
        """``GET /v1beta/{operation}``; inline jobs have no state to re-read."""
        if job_id.startswith(INLINE_PREFIX):
            return JobStatus("failed", error="The job was interrupted; please try again.")
        response = await send(self._client, "GET", f"/v1beta/{job_id}", self.name, headers=self._auth)
        body = response.json()
        if not body.get("done"):
            return JobStatus("running")
        if body.get("error"):
            return JobStatus("failed", error=str(body["error"].get("message", "failed")))
        samples = body.get("response", {}).get("generateVideoResponse", {}).get("generatedSamples", [])
        return JobStatus(
            "succeeded", tuple(Output(content_type="video/mp4", url=s["video"]["uri"]) for s in samples)
        )

    async def download(self, output: Output) -> bytes:
        """Inline bytes, or the video URI (with the key only on Gemini's own host)."""
        if output.data is not None:
            return output.data
        url = str(output.url)
        headers = self._auth if url.startswith(self._base_url) else {}
        response = await send(self._client, "GET", url, self.name, headers=headers)
        return response.content

    async def cleanup(self, job_id: str | None, file_ids: tuple[str, ...]) -> str:
        """Delete uploaded files (already gone counts as deleted)."""
        for name in file_ids:
            with contextlib.suppress(ProviderRejected):  # 404: deleted before
                await send(self._client, "DELETE", f"/v1beta/{name}", self.name, headers=self._auth)
        return "delete-files" if file_ids else "nothing-to-delete"


def _inline_result(body: dict[str, Any], modality: str) -> JobStatus:
    candidates = body.get("candidates") or []
    if not candidates:
        reason = body.get("promptFeedback", {}).get("blockReason")
        return JobStatus(
            "failed",
            error=f"The request was blocked ({reason})." if reason else "The provider returned no result.",
        )
    parts = candidates[0].get("content", {}).get("parts", [])
    outputs = [
        Output(content_type=p["inlineData"].get("mimeType"), data=base64.b64decode(p["inlineData"]["data"]))
        for p in parts
        if "inlineData" in p
    ]
    if modality == "text":
        text = "".join(p.get("text", "") for p in parts)
        outputs = [Output(content_type="text/plain", data=text.encode())] if text else []
    if not outputs:
        return JobStatus("failed", error="The provider returned no result.")
    return JobStatus("succeeded", tuple(outputs))
