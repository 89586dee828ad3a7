"""Deletion that really empties, on both backends: a user's 2,500 objects in batched
DeleteObjects calls, a generation's files, receipts and verification."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from aiflux_contracts import (
    ErasureVerificationRequested,
    ExportRequested,
    GenerationDeleted,
    GenerationRequested,
    UserDeleted,
)
from sqlalchemy import text

from .helpers import eventually, objects_under, publish, published, service_headers, upload
from .samples import png

SEEDED = 2_500


def _seed_objects(store, keys: list[str]) -> None:
    """Write the objects straight into the store's storage (set-up, not the test: the erasure
    itself goes through the S3 API over HTTP)."""
    if hasattr(store, "client"):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        for key in keys:
            backend.put_object(store.bucket, key, b"x")
        return
    for key in keys:
        path: Path = store.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


async def _seed_user(stack, user_id: uuid.UUID, count: int) -> None:
    ids = [uuid.uuid4() for _ in range(count)]
    keys = [f"users/{user_id}/files/{i}" for i in ids]
    await asyncio.to_thread(_seed_objects, stack.container("storage").store, keys)
    async with stack.unit("storage").database.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO stored_file (id, user_id, content_type, kind, size, sha256, purpose,"
                " object_key) VALUES (:id, :u, 'image/png', 'image', 1, :h, 'reference', :k)"
            ),
            [{"id": i, "u": user_id, "h": "0" * 64, "k": k} for i, k in zip(ids, keys, strict=True)],
        )


def _watch_delete_calls(stack) -> list[int]:
    """Record the size of every DeleteObjects call (each boto3 API call itself on S3)."""
    store = stack.container("storage").store
    calls: list[int] = []
    if hasattr(store, "client"):

        def count(params, **_):
            calls.append(len(params["Delete"]["Objects"]))

        store.client.meta.events.register("before-parameter-build.s3.DeleteObjects", count)
        return calls
    original = store.delete_batch

    async def counting(keys):
        calls.append(len(keys))
        return await original(keys)

    store.delete_batch = counting
    return calls


async def _metadata_count(stack, user_id: uuid.UUID) -> int:
    async with stack.unit("storage").database.transaction() as session:
        return int(
            (
                await session.execute(
                    text("SELECT count(*) FROM stored_file WHERE user_id = :u"), {"u": user_id}
                )
            ).scalar_one()
        )


async def _receipt(stack, request_id: uuid.UUID, routing_key: str, n: int = 1):
    async def found():
        items = [p for p in await published(stack, routing_key) if p["request_id"] == str(request_id)]
        return items if len(items) >= n else None

    return (await eventually(found, timeout=60))[n - 1]


async def test_user_erasure_empties_2500_objects_in_batches(stack, sessions):
    user_id, headers = sessions.sign_in()
    request_id, export_id = uuid.uuid4(), uuid.uuid4()
    await _seed_user(stack, user_id, SEEDED - 1)
    assert (await upload(stack, headers, png(), "last.png")).status_code == 201
    await publish(stack, ExportRequested(request_id=export_id, user_id=user_id))
    await _receipt(stack, export_id, "storage.export_part_ready.v1")
    assert await objects_under(stack, f"exports/{export_id}/")
    calls = _watch_delete_calls(stack)

    await publish(stack, UserDeleted(user_id=user_id, request_id=request_id))
    receipt = await _receipt(stack, request_id, "storage.erasure_completed.v1")

    assert receipt["deleted"] == {"objects": SEEDED + 1, "files": SEEDED}
    # The receipt carries storage's own verification: nothing but declared items remains.
    remaining = receipt["remaining"]
    assert {k: v for k, v in remaining.items() if k != "erasure_messages"} == {
        "objects": 0,
        "export_objects": 0,
        "files": 0,
        "exports": 0,
        "erasure_guard": 1,
    }
    declared = {r["category"]: r["count"] for r in receipt["retained"]}
    assert remaining["erasure_messages"] == declared["erasure_messages"] >= 2  # FilesErased, receipt
    assert len([c for c in calls if c > 1]) >= 3 and max(calls) <= 1000
    assert sum(calls) >= SEEDED
    assert await objects_under(stack, f"users/{user_id}/") == []
    assert await objects_under(stack, f"exports/{export_id}/") == []
    assert await _metadata_count(stack, user_id) == 0
    erased = [p for p in await published(stack, "storage.files_erased.v1") if p["user_id"] == str(user_id)]
    assert erased[-1]["objects_deleted"] == SEEDED + 1

    # A re-driven request gets the same receipt, and verification finds nothing left.
    await publish(stack, UserDeleted(user_id=user_id, request_id=request_id))
    again = await _receipt(stack, request_id, "storage.erasure_completed.v1", n=2)
    assert again["deleted"] == receipt["deleted"]
    assert {r["category"] for r in again["retained"]} == {"erasure_guard", "erasure_messages"}
    verified = await _verify(stack, request_id, user_id)
    assert {k: v for k, v in verified.items() if k != "outbox_events"} == {
        "objects": 0,
        "export_objects": 0,
        "files": 0,
        "exports": 0,
        "erasure_guard": 1,
    }
    assert (await stack.client.get("/v1/files", headers=headers)).json()["items"] == []


async def test_verification_counts_what_remains(stack, sessions):
    user_id, headers = sessions.sign_in()
    assert (await upload(stack, headers, png(), "kept.png")).status_code == 201
    request_id = uuid.uuid4()
    verified = await _verify(stack, request_id, user_id)
    assert {k: verified[k] for k in ("objects", "files", "exports", "erasure_guard")} == {
        "objects": 1,
        "files": 1,
        "exports": 0,
        "erasure_guard": 0,
    }


async def _verify(stack, request_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, int]:
    """Ask for a verification; return what storage says remains of the user.

    (Receipts to privacy stay unsent in a storage-only stack, so ``outbox_events`` is not 0
    here; the kit's tests cover that count.)"""
    before = len(
        [
            p
            for p in await published(stack, "storage.erasure_verified.v1")
            if p["request_id"] == str(request_id)
        ]
    )
    await publish(stack, ErasureVerificationRequested(request_id=request_id, user_id=user_id))
    verified = await _receipt(stack, request_id, "storage.erasure_verified.v1", n=before + 1)
    return dict(verified["remaining"])


async def _erase(stack, user_id: uuid.UUID, request_id: uuid.UUID, n: int = 1):
    await publish(stack, UserDeleted(user_id=user_id, request_id=request_id))
    return await _receipt(stack, request_id, "storage.erasure_completed.v1", n=n)


async def test_upload_with_an_old_session_after_erasure_is_refused_and_leaves_nothing(stack, sessions):
    user_id, headers = sessions.sign_in()  # the session stays valid: a stale cache elsewhere
    await _erase(stack, user_id, uuid.uuid4())

    late = await upload(stack, headers, png(), "late.png")
    assert late.status_code == 410 and late.json()["type"] == "urn:aiflux:problem:account-erased"
    output = await stack.client.post(
        "/internal/storage/files",
        headers=service_headers("generation"),
        data={"user_id": str(user_id), "purpose": "output", "generation_id": str(uuid.uuid4())},
        files={"file": ("out.png", png(), "image/png")},
    )
    assert output.status_code == 410
    assert await objects_under(stack, f"users/{user_id}/") == []
    assert await _metadata_count(stack, user_id) == 0


async def test_export_parts_count_until_erased_and_are_refused_after(stack, sessions):
    user_id, _ = sessions.sign_in()
    request_id, export_id = uuid.uuid4(), uuid.uuid4()
    part = f"/internal/storage/exports/{export_id}/objects"
    owner = {"user_id": str(user_id)}
    written = await stack.client.put(
        f"{part}/identity.json",
        content=b'{"email": "a@b.c"}',
        params=owner,
        headers=service_headers("identity"),
    )
    assert written.status_code == 201
    assert (await _verify(stack, request_id, user_id))["export_objects"] == 1

    await _erase(stack, user_id, request_id)
    assert await objects_under(stack, f"exports/{export_id}/") == []
    late = await stack.client.put(
        f"{part}/generation.json",
        content=b'{"prompts": ["x"]}',
        params=owner,
        headers=service_headers("generation"),
    )
    assert late.status_code == 410
    archive = await stack.client.put(
        f"/internal/storage/exports/{export_id}/archive",
        content=b"PK",
        params=owner,
        headers=service_headers("privacy"),
    )
    assert archive.status_code == 410
    assert await objects_under(stack, f"exports/{export_id}/") == []
    late_export = uuid.uuid4()  # storage's own part of an export requested too late
    await publish(stack, ExportRequested(request_id=late_export, user_id=user_id))
    await eventually(lambda: _handled(stack, "storage.exports", late_export))
    assert await objects_under(stack, f"exports/{late_export}/") == []
    remaining = await _verify(stack, request_id, user_id)
    assert remaining["export_objects"] == 0 and remaining["exports"] == 0


async def _handled(stack, consumer: str, request_id: uuid.UUID) -> bool:
    async with stack.unit("storage").database.transaction() as session:
        rows = (
            (
                await session.execute(
                    text(
                        "SELECT o.body FROM inbox i JOIN outbox o ON o.event_id = i.event_id"
                        " WHERE i.consumer = :c"
                    ),
                    {"c": consumer},
                )
            )
            .scalars()
            .all()
        )
    return any(str(request_id) in body for body in rows)


async def test_redelivered_erasure_deletes_an_object_that_landed_late(stack, sessions):
    user_id, headers = sessions.sign_in()
    request_id = uuid.uuid4()
    assert (await upload(stack, headers, png(), "a.png")).status_code == 201
    first = await _erase(stack, user_id, request_id)
    assert first["deleted"] == {"objects": 1, "files": 1}
    late = f"users/{user_id}/files/{uuid.uuid4()}"  # streamed by a request that crashed
    await asyncio.to_thread(_seed_objects, stack.container("storage").store, [late])
    assert (await _verify(stack, request_id, user_id))["objects"] == 1

    again = await _erase(stack, user_id, request_id, n=2)
    assert again["deleted"] == {"objects": 2, "files": 1}
    assert await objects_under(stack, f"users/{user_id}/") == []
    assert (await _verify(stack, request_id, user_id))["objects"] == 0


async def _store_output(stack, user_id, generation_id) -> str:
    response = await stack.client.post(
        "/internal/storage/files",
        headers=service_headers("generation"),
        data={"user_id": str(user_id), "purpose": "output", "generation_id": str(generation_id)},
        files={"file": ("out.png", png(), "image/png")},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["file_id"])


async def test_deleting_a_generation_deletes_its_inputs_and_outputs(stack, sessions):
    user_id, headers = sessions.sign_in()
    first, repeat = uuid.uuid4(), uuid.uuid4()
    only_first = (await upload(stack, headers, png(), "a.png")).json()["file_id"]
    shared = (await upload(stack, headers, png(), "b.png")).json()["file_id"]
    for generation, inputs in ((first, [only_first, shared]), (repeat, [shared])):
        await publish(
            stack,
            GenerationRequested(
                generation_id=generation, user_id=user_id, model="m", credits=1, input_file_ids=inputs
            ),
        )
    output = await _store_output(stack, user_id, first)

    async def linked():
        response = await stack.client.get(
            f"/internal/storage/files/{only_first}", headers=service_headers("generation")
        )
        return response.json()["generation_id"] == str(first)

    await eventually(linked)
    await eventually(lambda: _links(stack, repeat))

    await publish(
        stack,
        GenerationDeleted(
            generation_id=first,
            user_id=user_id,
            input_file_ids=[only_first, shared],
            output_file_ids=[output],
        ),
    )

    async def erased():
        return [
            p
            for p in await published(stack, "storage.files_erased.v1")
            if p.get("generation_id") == str(first)
        ]

    receipt = (await eventually(erased))[0]
    assert receipt["objects_deleted"] == 2
    remaining = [f["file_id"] for f in (await stack.client.get("/v1/files", headers=headers)).json()["items"]]
    assert remaining == [shared]  # still an input of the repeated generation
    assert await objects_under(stack, f"users/{user_id}/") == [f"users/{user_id}/files/{shared}"]


async def _links(stack, generation_id: uuid.UUID) -> int:
    async with stack.unit("storage").database.transaction() as session:
        return int(
            (
                await session.execute(
                    text("SELECT count(*) FROM file_link WHERE generation_id = :g"), {"g": generation_id}
                )
            ).scalar_one()
        )


async def test_two_generations_sharing_an_input_deleted_at_once_release_it(stack, sessions):
    """Write skew: each deletion dropped its own link and still saw the other's, so neither
    released the shared input and it was never deleted."""
    from aiflux_storage.adapters.repository import SqlRecords

    user_id, headers = sessions.sign_in()
    first, repeat = uuid.uuid4(), uuid.uuid4()
    shared = uuid.UUID((await upload(stack, headers, png(), "s.png")).json()["file_id"])
    database = stack.unit("storage").database
    for generation in (first, repeat):
        async with database.transaction() as session:
            await SqlRecords(session).link_inputs(user_id, generation, [shared])

    released: list[uuid.UUID] = []

    async def release(generation: uuid.UUID, started: asyncio.Event | None = None) -> None:
        async with database.transaction() as session:
            files = await SqlRecords(session).release_generation(user_id, generation, [shared])
            released.extend(f.file_id for f in files)
            if started is not None:  # hold this transaction open while the other one runs
                started.set()
                await asyncio.sleep(0.5)

    started = asyncio.Event()
    holding = asyncio.create_task(release(first, started))
    await started.wait()
    await release(repeat)
    await holding
    assert released == [shared], "the shared input was released by neither deletion"
