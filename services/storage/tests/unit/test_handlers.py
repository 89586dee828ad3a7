"""The storage handlers on in-memory records and a temp-dir store: no database, no broker."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiflux_contracts import (
    ErasureCompleted,
    ErasureVerificationRequested,
    ErasureVerified,
    ExportPartReady,
    ExportRequested,
    GenerationDeleted,
    GenerationRequested,
    UserDeleted,
)
from aiflux_contracts.storage import FileStored
from aiflux_storage.adapters.multipart import SpooledUpload
from aiflux_storage.bootstrap import StorageContainer
from aiflux_storage.domain import content, keys
from aiflux_storage.domain.errors import AccountErased, ExportOwnerMismatch, FileTruncated, NotFound
from aiflux_storage.domain.exports import ArchivePlan
from aiflux_storage.domain.files import StoredFile
from aiflux_storage.handlers import erasure, export, files

from ..samples import png
from .fakes import NO_CONTEXT, MemoryRecords, unit_container

pytestmark = pytest.mark.unit


@pytest.fixture
def service(tmp_path: Path) -> tuple[StorageContainer, MemoryRecords]:
    return unit_container(tmp_path)


def _spooled(tmp: Path, data: bytes) -> SpooledUpload:
    path = tmp / f"upload-{uuid.uuid4().hex}"
    path.write_bytes(data)
    file_type = content.sniff(data[: content.HEAD_BYTES])
    assert file_type is not None
    return SpooledUpload(path, len(data), hashlib.sha256(data).hexdigest(), file_type, None)


async def _upload(
    c: StorageContainer,
    tmp: Path,
    owner: uuid.UUID,
    purpose: str = "reference",
    generation_id: uuid.UUID | None = None,
) -> StoredFile:
    return await files.store_checked_file(
        c, owner, purpose, _spooled(tmp, png()), generation_id=generation_id
    )


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _keys(c: StorageContainer, prefix: str) -> list[str]:
    return [o.key for o in await c.store.list_prefix(prefix)]


async def test_an_upload_is_stored_recorded_and_announced(service, tmp_path) -> None:
    c, records = service
    owner = uuid.uuid4()
    stored = await _upload(c, tmp_path, owner)
    assert stored.content_type == "image/png" and stored.kind == "image"
    assert await _keys(c, keys.user_prefix(owner)) == [stored.object_key]
    assert [e.file_id for e in records.events(FileStored)] == [stored.file_id]
    assert await files.owned_file(c, owner, stored.file_id) == stored


async def test_a_truncated_upload_leaves_nothing(service, tmp_path) -> None:
    c, records = service
    owner = uuid.uuid4()
    with pytest.raises(FileTruncated):
        await files.store_checked_file(c, owner, "reference", _spooled(tmp_path, png()[:-20]))
    assert await _keys(c, keys.user_prefix(owner)) == []
    assert records.files == {} and records.published == []


async def test_deleting_a_generation_keeps_inputs_another_one_uses(service, tmp_path) -> None:
    c, records = service
    owner, first, repeat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    shared = await _upload(c, tmp_path, owner, "input")
    output = await _upload(c, tmp_path, owner, "output", generation_id=first)
    for generation in (first, repeat):
        await erasure.link_generation_inputs(
            c,
            NO_CONTEXT,
            GenerationRequested(
                generation_id=generation, user_id=owner, model="m", credits=1, input_file_ids=[shared.file_id]
            ),
        )
    await erasure.erase_generation(
        c,
        NO_CONTEXT,
        GenerationDeleted(
            generation_id=first,
            user_id=owner,
            input_file_ids=[shared.file_id],
            output_file_ids=[output.file_id],
        ),
    )
    assert await _keys(c, keys.user_prefix(owner)) == [shared.object_key]
    assert set(records.files) == {shared.file_id}


async def test_erasing_a_user_empties_files_exports_and_refuses_later_writes(service, tmp_path) -> None:
    c, records = service
    owner, other, request_id, export_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for _ in range(3):
        await _upload(c, tmp_path, owner)
    kept = await _upload(c, tmp_path, other)
    await export.put_part(c, export_id, owner, "billing.json", _chunks(b"{}"))

    await erasure.erase_user(c, NO_CONTEXT, UserDeleted(user_id=owner, request_id=request_id))

    assert await _keys(c, keys.user_prefix(owner)) == []
    assert await _keys(c, keys.export_prefix(export_id)) == []
    assert list(records.files) == [kept.file_id] and records.exports == {}
    (receipt,) = records.events(ErasureCompleted["storage"])
    assert receipt.deleted == {"objects": 4, "files": 3}
    with pytest.raises(AccountErased):
        await _upload(c, tmp_path, owner)
    with pytest.raises(AccountErased):
        await export.put_part(c, export_id, owner, "late.json", _chunks(b"{}"))
    assert await _keys(c, keys.user_prefix(owner)) == []

    await erasure.verify_user_erased(
        c, NO_CONTEXT, ErasureVerificationRequested(request_id=request_id, user_id=owner)
    )
    (verified,) = records.events(ErasureVerified["storage"])
    assert verified.remaining == {
        "objects": 0,
        "export_objects": 0,
        "files": 0,
        "exports": 0,
        "outbox_events": 0,
        "erasure_guard": 1,
    }


async def test_the_export_part_lists_the_users_files_and_nothing_of_others(service, tmp_path) -> None:
    c, records = service
    owner, request_id = uuid.uuid4(), uuid.uuid4()
    mine = await _upload(c, tmp_path, owner)
    await _upload(c, tmp_path, uuid.uuid4())

    await export.write_storage_part(c, NO_CONTEXT, ExportRequested(request_id=request_id, user_id=owner))

    (ready,) = records.events(ExportPartReady["storage"])
    assert ready.objects == ["storage.json", f"files/{mine.file_id}"]
    body = b"".join([chunk async for chunk in await export.open_part(c, request_id, "storage.json")])
    document = json.loads(body)
    assert [f["file_id"] for f in document["files"]] == [str(mine.file_id)]
    assert document["files"][0]["url"] == f"http://aiflux.test/v1/files/{mine.file_id}"
    assert "object_key" not in document["files"][0]


async def test_an_erased_users_export_gets_no_part(service) -> None:
    c, records = service
    owner, request_id = uuid.uuid4(), uuid.uuid4()
    records.erased.add(owner)
    await export.write_storage_part(c, NO_CONTEXT, ExportRequested(request_id=request_id, user_id=owner))
    assert records.published == [] and await _keys(c, keys.export_prefix(request_id)) == []


async def test_a_part_for_another_users_export_is_refused_and_removed(service) -> None:
    c, _ = service
    request_id = uuid.uuid4()
    await export.put_part(c, request_id, uuid.uuid4(), "a.json", _chunks(b"{}"))
    with pytest.raises(ExportOwnerMismatch):
        await export.put_part(c, request_id, uuid.uuid4(), "b.json", _chunks(b"{}"))
    assert [p.name for p in await export.list_parts(c, request_id)] == ["a.json"]
    assert await _keys(c, keys.export_prefix(request_id)) == [keys.export_part_key(request_id, "a.json")]


def _plan(manifest: dict[str, str], parts: list[tuple[str, str]], files: list[StoredFile]) -> ArchivePlan:
    return ArchivePlan(
        json.dumps(manifest).encode(), parts, [(f"files/{f.file_id}.png", f.file_id) for f in files]
    )


async def test_the_archive_is_built_from_the_store_media_stored_and_json_deflated(service, tmp_path) -> None:
    c, _ = service
    owner, request_id = uuid.uuid4(), uuid.uuid4()
    picture = await _upload(c, tmp_path, owner)
    part = json.dumps({"rows": ["a lighthouse at dusk"] * 2000}).encode()
    await export.put_part(c, request_id, owner, "generation.json", _chunks(part))

    plan = _plan({"request_id": str(request_id)}, [("data/generation.json", "generation.json")], [picture])
    stored = await export.build_archive(c, request_id, owner, plan)

    zipped = b"".join([chunk async for chunk in c.store.open(stored.key)])
    assert stored.key == keys.export_archive_key(request_id) and stored.size == len(zipped)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert archive.namelist() == ["manifest.json", "data/generation.json", f"files/{picture.file_id}.png"]
        assert archive.testzip() is None
        assert json.loads(archive.read("manifest.json")) == {"request_id": str(request_id)}
        assert archive.read("data/generation.json") == part
        assert archive.read(f"files/{picture.file_id}.png") == png()
        methods = {i.filename: i.compress_type for i in archive.infolist()}
    assert methods["data/generation.json"] == zipfile.ZIP_DEFLATED
    assert methods[f"files/{picture.file_id}.png"] == zipfile.ZIP_STORED
    # The archive is not one of the export's parts.
    assert [p.name for p in await export.list_parts(c, request_id)] == ["generation.json"]


async def test_an_archive_is_refused_for_an_erased_user_and_for_what_is_not_theirs(service, tmp_path) -> None:
    c, records = service
    owner, request_id = uuid.uuid4(), uuid.uuid4()
    await export.put_part(c, request_id, owner, "billing.json", _chunks(b"{}"))
    someone_elses = await _upload(c, tmp_path, uuid.uuid4())
    with pytest.raises(NotFound):
        await export.build_archive(c, request_id, owner, _plan({}, [], [someone_elses]))
    with pytest.raises(NotFound):
        await export.build_archive(c, request_id, owner, _plan({}, [("data/x.json", "never.json")], []))
    with pytest.raises(ExportOwnerMismatch):
        await export.build_archive(c, request_id, uuid.uuid4(), _plan({}, [], []))
    records.erased.add(owner)
    with pytest.raises(AccountErased):
        await export.build_archive(c, request_id, owner, _plan({}, [("data/b.json", "billing.json")], []))
    assert await _keys(c, keys.export_prefix(request_id)) == [
        keys.export_part_key(request_id, "billing.json")
    ]
