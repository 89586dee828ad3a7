"""Internal routes (peer services only), export parts and archives, and the sweeps; on both
backends."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import httpx
from aiflux_contracts import ExportRequested
from sqlalchemy import text

from .helpers import eventually, objects_under, publish, published, service_headers, upload
from .samples import HTML, png


async def test_internal_routes_admit_only_their_callers(stack, sessions):
    _, headers = sessions.sign_in()
    file_id = (await upload(stack, headers, png(), "a.png")).json()["file_id"]
    route = f"/internal/storage/files/{file_id}"
    assert (await stack.client.get(route)).status_code == 403
    assert (await stack.client.get(route, headers=headers)).status_code == 403
    assert (await stack.client.get(route, headers=service_headers("billing"))).status_code == 403
    ok = await stack.client.get(route, headers=service_headers("privacy"))
    assert ok.status_code == 200 and ok.json()["content_type"] == "image/png"
    archive = f"/internal/storage/exports/{uuid.uuid4()}/archive"
    refused = await stack.client.put(archive, content=b"zip", headers=service_headers("generation"))
    assert refused.status_code == 403


async def test_peers_read_files_and_store_checked_outputs(stack, sessions):
    user_id, headers = sessions.sign_in()
    data = png(16, 16)
    file_id = (await upload(stack, headers, data, "a.png")).json()["file_id"]
    content = await stack.client.get(
        f"/internal/storage/files/{file_id}/content", headers=service_headers("generation")
    )
    assert content.status_code == 200 and content.content == data
    assert content.headers["content-type"] == "image/png"

    generation_id = uuid.uuid4()
    fields = {"user_id": str(user_id), "purpose": "output", "generation_id": str(generation_id)}
    spoofed = await stack.client.post(
        "/internal/storage/files",
        headers=service_headers("generation"),
        data=fields,
        files={"file": ("out.png", HTML, "image/png")},
    )
    assert spoofed.status_code == 415
    stored = await stack.client.post(
        "/internal/storage/files",
        headers=service_headers("generation"),
        data=fields,
        files={"file": ("out", png(), "application/octet-stream")},
    )
    assert stored.status_code == 201
    assert stored.json()["generation_id"] == str(generation_id)
    mine = (await stack.client.get("/v1/files", headers=headers)).json()["items"]
    assert {f["purpose"] for f in mine} == {"reference", "output"}

    listed = await stack.client.get(
        f"/internal/storage/users/{user_id}/files", headers=service_headers("privacy")
    )
    assert sorted(f["file_id"] for f in listed.json()["items"]) == sorted([file_id, stored.json()["file_id"]])


async def test_export_parts_and_archive(stack, sessions):
    user_id, headers = sessions.sign_in()
    file_id = (await upload(stack, headers, png(), "a.png")).json()["file_id"]
    request_id = uuid.uuid4()
    base = f"/internal/storage/exports/{request_id}"
    owner = {"user_id": str(user_id)}

    unowned = await stack.client.put(
        f"{base}/objects/billing.json", content=b"{}", headers=service_headers("billing")
    )
    assert unowned.status_code == 422
    put = await stack.client.put(
        f"{base}/objects/billing.json",
        content=b'{"payments": []}',
        params=owner,
        headers=service_headers("billing"),
    )
    assert put.status_code == 201 and put.json()["key"].endswith("/parts/billing.json")
    bad = await stack.client.put(
        f"{base}/objects/../secret", content=b"x", params=owner, headers=service_headers("billing")
    )
    assert bad.status_code in (404, 422)
    assert (
        await stack.client.put(
            f"{base}/objects/.hidden", content=b"x", params=owner, headers=service_headers("billing")
        )
    ).status_code == 422
    stranger = await stack.client.put(
        f"{base}/objects/other.json",
        content=b"{}",
        params={"user_id": str(uuid.uuid4())},
        headers=service_headers("billing"),
    )
    assert stranger.status_code == 409

    await publish(stack, ExportRequested(request_id=request_id, user_id=user_id))

    async def ready():
        return [
            p
            for p in await published(stack, "storage.export_part_ready.v1")
            if p["request_id"] == str(request_id)
        ]

    part = (await eventually(ready))[0]
    assert part["objects"] == ["storage.json", f"files/{file_id}"]

    privacy = service_headers("privacy")
    names = [i["name"] for i in (await stack.client.get(f"{base}/objects", headers=privacy)).json()["items"]]
    assert names == ["billing.json", "storage.json"]
    storage_json = json.loads(
        (await stack.client.get(f"{base}/objects/storage.json", headers=privacy)).content
    )
    assert [f["file_id"] for f in storage_json["files"]] == [file_id]
    # Each file as its owner reaches it through the API, never by an internal path or key.
    [exported] = storage_json["files"]
    assert exported["url"] == f"{stack.unit('storage').settings.public_url.rstrip('/')}/v1/files/{file_id}"
    raw = (await stack.client.get(f"{base}/objects/storage.json", headers=privacy)).text
    assert "/internal/" not in raw and "object_key" not in raw
    missing = await stack.client.get(f"{base}/objects/nothing.json", headers=privacy)
    assert missing.status_code == 404

    assert (await stack.client.get(f"{base}/archive/url", headers=privacy)).status_code == 404
    archive = bytes(range(256)) * 1000

    async def chunks():
        for start in range(0, len(archive), 64 * 1024):
            yield archive[start : start + 64 * 1024]

    stored = await stack.client.put(f"{base}/archive", content=chunks(), params=owner, headers=privacy)
    assert stored.status_code == 201 and stored.json()["size"] == len(archive)
    link = (await stack.client.get(f"{base}/archive/url", headers=privacy)).json()
    async with httpx.AsyncClient() as anyone:
        downloaded = await anyone.get(link["url"])
    assert downloaded.status_code == 200 and downloaded.content == archive


async def test_the_archive_is_built_from_the_store_as_privacy_plans_it(stack, sessions):
    user_id, headers = sessions.sign_in()
    picture = png(8, 8)
    file_id = (await upload(stack, headers, picture, "a.png")).json()["file_id"]
    request_id = uuid.uuid4()
    base = f"/internal/storage/exports/{request_id}"
    owner = {"user_id": str(user_id)}
    part = json.dumps({"payments": [{"amount": 500}] * 500}).encode()
    put = await stack.client.put(
        f"{base}/objects/billing.json", content=part, params=owner, headers=service_headers("billing")
    )
    assert put.status_code == 201
    privacy = service_headers("privacy")
    plan = {
        "manifest": {"request_id": str(request_id)},
        "parts": [{"member": "data/billing.json", "part": "billing.json"}],
        "files": [{"member": f"files/uploads/{file_id}.png", "file_id": file_id}],
    }

    assert (await stack.client.post(f"{base}/archive", json=plan, params=owner)).status_code == 403
    stranger = await stack.client.post(
        f"{base}/archive", json=plan, params={"user_id": str(uuid.uuid4())}, headers=privacy
    )
    assert stranger.status_code == 409
    duplicated = {**plan, "parts": [{"member": "manifest.json", "part": "billing.json"}]}
    invalid = await stack.client.post(f"{base}/archive", json=duplicated, params=owner, headers=privacy)
    assert invalid.status_code == 422 and invalid.json()["type"].endswith("validation-error")
    escaping = {**plan, "parts": [{"member": "../billing.json", "part": "billing.json"}]}
    assert (
        await stack.client.post(f"{base}/archive", json=escaping, params=owner, headers=privacy)
    ).status_code == 422
    _, other = sessions.sign_in()
    theirs = (await upload(stack, other, png(), "b.png")).json()["file_id"]
    not_mine = {**plan, "files": [{"member": "files/b.png", "file_id": theirs}]}
    refused = await stack.client.post(f"{base}/archive", json=not_mine, params=owner, headers=privacy)
    assert refused.status_code == 404

    built = await stack.client.post(f"{base}/archive", json=plan, params=owner, headers=privacy)
    assert built.status_code == 201, built.text
    link = (await stack.client.get(f"{base}/archive/url", headers=privacy)).json()
    async with httpx.AsyncClient() as anyone:
        downloaded = await anyone.get(link["url"])
    assert downloaded.status_code == 200 and len(downloaded.content) == built.json()["size"]
    with zipfile.ZipFile(io.BytesIO(downloaded.content)) as zipped:
        assert zipped.namelist() == ["manifest.json", "data/billing.json", f"files/uploads/{file_id}.png"]
        assert json.loads(zipped.read("manifest.json")) == plan["manifest"]
        assert zipped.read("data/billing.json") == part
        assert zipped.read(f"files/uploads/{file_id}.png") == picture
        stored = zipped.getinfo(f"files/uploads/{file_id}.png")
    assert stored.compress_type == zipfile.ZIP_STORED
    # The archive is the export's, not one of its parts.
    names = [i["name"] for i in (await stack.client.get(f"{base}/objects", headers=privacy)).json()["items"]]
    assert names == ["billing.json"]


async def test_sweeps_remove_orphans_and_expired_archives(stack, sessions):
    user_id, headers = sessions.sign_in()
    kept = (await upload(stack, headers, png(), "kept.png")).json()["file_id"]
    store = stack.container("storage").store

    async def one(data: bytes):
        yield data

    orphan = f"users/{user_id}/files/{uuid.uuid4()}"
    await store.put_stream(orphan, one(b"left behind by a crash"), "image/png")
    result = await stack.runtime.run_sweep("storage", "orphan-objects")
    assert result.error is None and result.counts["deleted"] >= 1
    assert await objects_under(stack, f"users/{user_id}/") == [f"users/{user_id}/files/{kept}"]

    request_id = uuid.uuid4()
    base = f"/internal/storage/exports/{request_id}"
    await stack.client.put(
        f"{base}/archive",
        content=b"PK zip",
        params={"user_id": str(user_id)},
        headers=service_headers("privacy"),
    )
    assert await objects_under(stack, f"exports/{request_id}/")
    async with stack.unit("storage").database.transaction() as session:
        await session.execute(
            text("UPDATE export_object SET expires_at = now() - interval '1 minute' WHERE request_id = :r"),
            {"r": request_id},
        )
    result = await stack.runtime.run_sweep("storage", "expired-archives")
    assert result.error is None and result.counts["exports"] >= 1
    assert await objects_under(stack, f"exports/{request_id}/") == []
    gone = await stack.client.get(f"{base}/archive/url", headers=service_headers("privacy"))
    assert gone.status_code == 404
