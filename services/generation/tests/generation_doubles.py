"""A local HTTP server speaking the four providers' real API shapes (see each adapter's
docstring), with knobs for 429s, 500s, outages, hangs (client timeouts) and slow jobs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from PIL import Image

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def png(color: tuple[int, int, int] = (10, 200, 30)) -> bytes:
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()


def gif(frames: int = 4) -> bytes:
    """A small real animated GIF (what animation endpoints often answer)."""
    images = [Image.new("RGB", (16, 16), (40 * i, 100, 200 - 40 * i)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def wav() -> bytes:
    """A short real WAV."""
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10" * 800)
    return out.getvalue()


@dataclass
class Job:
    """A job held by a fake provider."""

    provider: str
    model: str
    body: Any
    headers: dict[str, str]
    polls_left: int
    fail: bool
    status: str = "running"


@dataclass
class ProviderDouble:
    """State and knobs of the fake providers."""

    base_url: str = ""
    polls_to_finish: int = 2
    # Results a provider makes beyond the first (as if it honoured num_images/sampleCount).
    extra_outputs: int = 0
    fail_jobs: set[str] = field(default_factory=set)
    down: set[str] = field(default_factory=set)
    hang: set[str] = field(default_factory=set)
    scripted: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    outputs: dict[str, bytes] = field(default_factory=dict)
    deleted_predictions: list[str] = field(default_factory=list)
    deleted_files: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def script(self, provider: str, *codes: int, method: str = "GET") -> None:
        """Answer the next ``method`` requests to ``provider`` with these status codes
        (GET: status reads; POST: submits and cleanups)."""
        self.scripted.setdefault((provider, method), []).extend(codes)

    async def gate(self, provider: str, request: Request) -> Response | None:
        """Outages, hangs and scripted errors, before the normal answer."""
        self.calls.append((provider, request.method, request.url.path))
        if provider in self.hang:
            await asyncio.sleep(5)
        if provider in self.down:
            return JSONResponse({"error": "unavailable"}, status_code=503)
        queue = self.scripted.get((provider, request.method))
        if queue:
            code = queue.pop(0)
            return JSONResponse({"error": f"scripted {code}"}, status_code=code)
        return None

    def new_job(self, provider: str, model: str, body: Any, request: Request) -> str:
        job_id = uuid.uuid4().hex
        self.jobs[job_id] = Job(
            provider, model, body, dict(request.headers), self.polls_to_finish, provider in self.fail_jobs
        )
        return job_id

    def advance(self, job_id: str) -> Job | None:
        """One status read: slow jobs need ``polls_to_finish`` reads."""
        job = self.jobs.get(job_id)
        if job is None or job.status != "running":
            return job
        job.polls_left -= 1
        if job.polls_left <= 0:
            job.status = "failed" if job.fail else "completed"
        return job

    def output_url(self, data: bytes) -> str:
        key = uuid.uuid4().hex
        self.outputs[key] = data
        return f"{self.base_url}/cdn/{key}"


def build_app(d: ProviderDouble) -> FastAPI:
    """Routes of WaveSpeed, Gemini, RunPod and Atlas Cloud on one server."""
    app = FastAPI()

    @app.get("/cdn/{key}")
    async def cdn(key: str) -> Response:
        return Response(d.outputs[key], media_type="application/octet-stream")

    _wavespeed(app, d)
    _gemini(app, d)
    _runpod(app, d)
    _atlas(app, d)
    return app


def _wavespeed(app: FastAPI, d: ProviderDouble) -> None:
    @app.post("/api/v3/predictions/delete")
    async def delete(request: Request) -> Response:
        if (gate := await d.gate("wavespeed", request)) is not None:
            return gate
        ids = (await request.json())["ids"]
        d.deleted_predictions.extend(ids)
        return JSONResponse({"code": 200, "data": {}})

    @app.get("/api/v3/predictions/{job_id}")
    async def result(job_id: str, request: Request) -> Response:
        if (gate := await d.gate("wavespeed", request)) is not None:
            return gate
        job = d.advance(job_id)
        if job is None:
            return JSONResponse({"code": 404, "message": "not found"}, status_code=404)
        data: dict[str, Any] = {"id": job_id, "status": job.status, "outputs": []}
        if job.status == "completed":
            made = MP4 if "wan-" in job.model else png()  # video models answer with MP4
            data["outputs"] = [d.output_url(made) for _ in range(1 + d.extra_outputs)]
        if job.status == "failed":
            data["error"] = "NSFW content detected"
        return JSONResponse({"code": 200, "data": data})

    @app.post("/api/v3/{owner}/{model:path}")
    async def submit(owner: str, model: str, request: Request) -> Response:
        if (gate := await d.gate("wavespeed", request)) is not None:
            return gate
        job_id = d.new_job("wavespeed", f"{owner}/{model}", await request.json(), request)
        return JSONResponse({"code": 200, "data": {"id": job_id, "status": "created", "outputs": []}})


def _gemini(app: FastAPI, d: ProviderDouble) -> None:
    @app.post("/upload/v1beta/files")
    async def upload_start(request: Request) -> Response:
        if (gate := await d.gate("gemini", request)) is not None:
            return gate
        assert request.headers["x-goog-upload-command"] == "start"
        session = uuid.uuid4().hex
        return JSONResponse(
            {}, headers={"X-Goog-Upload-URL": f"{d.base_url}/upload/v1beta/files/session/{session}"}
        )

    @app.post("/upload/v1beta/files/session/{session}")
    async def upload_finish(session: str, request: Request) -> Response:
        if (gate := await d.gate("gemini", request)) is not None:
            return gate
        name = f"files/{session[:12]}"
        d.files[name] = await request.body()
        return JSONResponse(
            {
                "file": {
                    "name": name,
                    "uri": f"{d.base_url}/v1beta/{name}",
                    "mimeType": "image/png",
                    "state": "ACTIVE",
                }
            }
        )

    @app.delete("/v1beta/files/{file_id}")
    async def delete_file(file_id: str, request: Request) -> Response:
        if (gate := await d.gate("gemini", request)) is not None:
            return gate
        d.deleted_files.append(f"files/{file_id}")
        return JSONResponse({})

    @app.post("/v1beta/models/{call}")
    async def model_call(call: str, request: Request) -> Response:
        if (gate := await d.gate("gemini", request)) is not None:
            return gate
        model, _, method = call.partition(":")
        body = await request.json()
        if method == "predictLongRunning":
            job_id = d.new_job("gemini", model, body, request)
            return JSONResponse({"name": f"models/{model}/operations/{job_id}"})
        d.new_job("gemini", model, body, request)
        if "gemini" in d.fail_jobs:
            return JSONResponse({"promptFeedback": {"blockReason": "SAFETY"}})
        data = base64.b64encode(png((200, 10, 10))).decode()
        return JSONResponse(
            {
                "candidates": [
                    {
                        "content": {
                            "parts": [
                                {"text": "Here you go"},
                                {"inlineData": {"mimeType": "image/png", "data": data}},
                            ]
                        }
                    }
                ]
            }
        )

    @app.get("/v1beta/models/{model}/operations/{job_id}")
    async def operation(model: str, job_id: str, request: Request) -> Response:
        if (gate := await d.gate("gemini", request)) is not None:
            return gate
        job = d.advance(job_id)
        if job is None:
            return JSONResponse({"error": {"code": 404}}, status_code=404)
        if job.status == "running":
            return JSONResponse({"name": job_id, "done": False})
        if job.status == "failed":
            return JSONResponse(
                {"name": job_id, "done": True, "error": {"code": 3, "message": "Video blocked"}}
            )
        uri = f"{d.base_url}/v1beta/files/{job_id}:download?alt=media"
        d.outputs[job_id] = MP4
        return JSONResponse(
            {
                "name": job_id,
                "done": True,
                "response": {
                    "generateVideoResponse": {
                        "generatedSamples": [{"video": {"uri": uri}}] * (1 + d.extra_outputs)
                    }
                },
            }
        )

    @app.get("/v1beta/files/{name}")
    async def download(name: str, request: Request) -> Response:
        if request.headers.get("x-goog-api-key") != "gemini-key":
            return JSONResponse({"error": "no key"}, status_code=403)
        return Response(d.outputs[name.split(":")[0]], media_type="video/mp4")


def _runpod(app: FastAPI, d: ProviderDouble) -> None:
    states = {
        "running": "IN_PROGRESS",
        "completed": "COMPLETED",
        "failed": "FAILED",
        "cancelled": "CANCELLED",
    }

    @app.post("/v2/{endpoint}/run")
    async def run(endpoint: str, request: Request) -> Response:
        if (gate := await d.gate("runpod", request)) is not None:
            return gate
        job_id = d.new_job("runpod", endpoint, await request.json(), request)
        return JSONResponse({"id": job_id, "status": "IN_QUEUE"})

    @app.get("/v2/{endpoint}/status/{job_id}")
    async def status(endpoint: str, job_id: str, request: Request) -> Response:
        if (gate := await d.gate("runpod", request)) is not None:
            return gate
        job = d.advance(job_id)
        if job is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        body: dict[str, Any] = {"id": job_id, "status": states[job.status]}
        if job.status == "completed":
            # An animation endpoint answers with an animated GIF, a TTS endpoint with a WAV.
            made = ("image/gif", gif()) if "animate" in job.model else ("audio/wav", wav())
            body["output"] = {
                "files": [{"content_type": made[0], "data_base64": base64.b64encode(made[1]).decode()}]
            }
        if job.status == "failed":
            body["error"] = "CUDA out of memory"
        return JSONResponse(body)

    @app.post("/v2/{endpoint}/cancel/{job_id}")
    async def cancel(endpoint: str, job_id: str, request: Request) -> Response:
        if (gate := await d.gate("runpod", request)) is not None:
            return gate
        d.cancelled.append(job_id)
        d.jobs[job_id].status = "cancelled"
        return JSONResponse({"id": job_id, "status": "CANCELLED"})


def _atlas(app: FastAPI, d: ProviderDouble) -> None:
    @app.post("/api/v1/model/{kind}")
    async def generate(kind: str, request: Request) -> Response:
        if (gate := await d.gate("atlascloud", request)) is not None:
            return gate
        body = await request.json()
        job_id = d.new_job("atlascloud", body["model"], body, request)
        return JSONResponse({"code": 200, "data": {"id": job_id, "status": "created"}})

    @app.get("/api/v1/model/prediction/{job_id}")
    async def prediction(job_id: str, request: Request) -> Response:
        if (gate := await d.gate("atlascloud", request)) is not None:
            return gate
        job = d.advance(job_id)
        if job is None:
            return JSONResponse({"code": 404}, status_code=404)
        data: dict[str, Any] = {"id": job_id, "status": job.status, "outputs": []}
        if job.status == "completed":
            data["outputs"] = [d.output_url(MP4) for _ in range(1 + d.extra_outputs)]
        if job.status == "failed":
            data["error"] = "Generation failed"
        return JSONResponse({"code": 200, "data": data})


@contextlib.asynccontextmanager
async def serve_providers() -> AsyncIterator[ProviderDouble]:
    """Run the fake providers on a free loopback port in this event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    double = ProviderDouble(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    server = uvicorn.Server(uvicorn.Config(build_app(double), log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield double
    finally:
        server.should_exit = True
        server.force_exit = True
        await task
        sock.close()
