"""Access export with the real storage service: every part, the user's files and a manifest in
one ZIP, built streaming, stored by storage, announced by mail, downloaded by redirect."""

from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
import uuid
import zipfile
import zlib

import httpx
from aiflux_contracts import Envelope, ExportPartReady, UserNotificationRequested
from aiflux_kit.http import peer_client
from aiflux_kit.settings import ServiceSettings, derive_secret
from aiflux_kit.testing import TestSessions
from sqlalchemy import text

OTHERS = ("identity", "billing", "generation")


def png() -> bytes:
    """A real 4x4 RGB PNG (storage checks the type by content)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\x10\x20\x30" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def _part_from(stack, service: str, request_id: uuid.UUID, user_id: uuid.UUID, body=None) -> None:
    """What the service itself does on ExportRequested: store its JSON, announce the part."""
    settings = ServiceSettings(
        storage_url=stack.base_url, service_key=derive_secret("test-master-secret", f"service:{service}")
    )
    async with peer_client(service, "storage", settings, timeout=120) as client:
        body = body or json.dumps({"service": service, "user_id": str(user_id)}).encode()
        put = await client.put(
            f"/internal/storage/exports/{request_id}/objects/{service}.json",
            params={"user_id": str(user_id)},
            content=body,
        )
        assert put.status_code == 201, put.text
    event = ExportPartReady[service](
        request_id=request_id, user_id=user_id, prefix=f"exports/{request_id}/", objects=[f"{service}.json"]
    )
    envelope = Envelope.wrap(event)
    await stack.runtime.platform.broker.publish(
        envelope.routing_key,
        envelope.model_dump_json().encode(),
        message_id=str(envelope.event_id),
        headers={},
    )


async def test_access_export_is_one_zip_with_every_part_files_and_manifest(stack_factory, wait):
    sessions = TestSessions()
    async with stack_factory(
        services=["storage", "privacy"],
        overrides={"privacy": {"export_poll_interval_s": 0.2}},
        platform_overrides={"session_verifier": sessions},
    ) as stack:
        client = stack.client
        user_id, headers = sessions.sign_in()
        picture = png()
        uploaded = await client.post(
            "/v1/files",
            headers=headers,
            files={"file": ("me.png", picture, "image/png")},
            data={"purpose": "reference"},
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["file_id"]

        filed = await client.post("/v1/privacy/requests", json={"type": "access"}, headers=headers)
        assert filed.status_code == 202
        request_id = uuid.UUID(filed.json()["id"])
        early = await client.get(f"/v1/privacy/requests/{request_id}/download", headers=headers)
        assert early.status_code == 409
        for service in OTHERS:
            await _part_from(stack, service, request_id, user_id)

        async def completed():
            body = (await client.get(f"/v1/privacy/requests/{request_id}", headers=headers)).json()
            return body if body["status"] == "completed" else None

        shown = await wait(completed, timeout=30)
        assert set(shown["progress"]) == {"identity", "billing", "generation", "storage", "privacy"}
        _, stranger = sessions.sign_in()
        assert (
            await client.get(f"/v1/privacy/requests/{request_id}/download", headers=stranger)
        ).status_code == 404
        redirect = await client.get(f"/v1/privacy/requests/{request_id}/download", headers=headers)
        assert redirect.status_code == 307
        async with httpx.AsyncClient() as browser:
            archive = await browser.get(redirect.headers["location"])
        assert archive.status_code == 200

        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            names = set(zipped.namelist())
            assert {
                "manifest.json",
                "data/identity.json",
                "data/billing.json",
                "data/generation.json",
                "data/storage.json",
                "data/privacy.json",
                f"files/uploads/{file_id}.png",
            } == names
            assert zipped.read(f"files/uploads/{file_id}.png") == picture
            manifest = json.loads(zipped.read("manifest.json"))
            privacy_part = json.loads(zipped.read("data/privacy.json"))
        assert {"purposes", "categories", "recipients", "retention", "rights"} <= set(manifest)
        assert {r["id"] for r in manifest["recipients"]} >= {"stripe", "posthog", "hetzner"}
        assert [r["type"] for r in privacy_part["requests"]] == ["access"]

        mails = [
            m for m in await _published(stack, UserNotificationRequested) if m["template"] == "export_ready"
        ]
        assert [m["user_id"] for m in mails] == [str(user_id)]
        assert mails[0]["params"]["download_url"].endswith(f"/{request_id}/download")


async def _published(stack, event_type):
    async with stack.unit("privacy").database.transaction() as session:
        bodies = (
            await session.execute(
                text("SELECT body FROM outbox WHERE routing_key = :k ORDER BY id"),
                {"k": event_type.routing_key()},
            )
        ).scalars()
        return [json.loads(b)["payload"] for b in bodies]


async def test_building_the_archive_does_not_hold_the_data_in_memory(stack_factory, wait):
    sessions = TestSessions()
    size = 48 * 1024 * 1024

    async def big_part():
        # Incompressible bytes, made as they are sent: the test itself holds 64 KiB at a time.
        for _ in range(size // 65536):
            yield os.urandom(65536)

    async with stack_factory(
        services=["storage", "privacy"],
        overrides={"privacy": {"export_poll_interval_s": 0.2}},
        platform_overrides={"session_verifier": sessions},
    ) as stack:
        user_id, headers = sessions.sign_in()
        filed = await stack.client.post("/v1/privacy/requests", json={"type": "portability"}, headers=headers)
        request_id = uuid.UUID(filed.json()["id"])
        await _part_from(stack, "generation", request_id, user_id, body=big_part())
        await _part_from(stack, "identity", request_id, user_id)
        tracemalloc.start()
        try:
            await _part_from(stack, "billing", request_id, user_id)

            async def completed():
                body = (await stack.client.get(f"/v1/privacy/requests/{request_id}", headers=headers)).json()
                return body["status"] == "completed"

            await wait(completed, timeout=120)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        redirect = await stack.client.get(f"/v1/privacy/requests/{request_id}/download", headers=headers)
        async with (
            httpx.AsyncClient() as browser,
            browser.stream("GET", redirect.headers["location"]) as archive,
        ):
            received = 0
            async for chunk in archive.aiter_bytes():
                received += len(chunk)
        assert received > size
        assert peak < size // 4, f"peak {peak} bytes while building a {received}-byte archive"
