"""The export archive, built from fake storage handed to ``bootstrap.build``: one ZIP with the
manifest, every service's part and the user's own files."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from aiflux_privacy.bootstrap import PrivacyContainer
from aiflux_privacy.domain.records import PrivacyRequest
from aiflux_privacy.handlers.export import archive_members
from stream_zip import async_stream_zip

from .conftest import a_request

pytestmark = pytest.mark.unit


def export_request(user_id: uuid.UUID) -> PrivacyRequest:
    return a_request(user_id, "access", "assembling", "request")


async def test_the_archive_holds_manifest_parts_and_files(container: PrivacyContainer) -> None:
    storage = container.storage
    user_id = uuid.uuid4()
    row = export_request(user_id)
    storage.objects[(row.id, "privacy.json")] = b'{"service": "privacy"}'
    storage.objects[(row.id, "storage.json")] = b'{"service": "storage"}'
    file_id = uuid.uuid4()
    storage.files[user_id] = [
        ({"file_id": file_id, "content_type": "image/png", "purpose": "output"}, b"\x89PNG...")
    ]
    parts = {"privacy": ["privacy.json"], "storage": ["storage.json", f"files/{file_id}"]}

    members = archive_members(storage, row, user_id, parts)  # type: ignore[arg-type]
    archive = b"".join([chunk async for chunk in async_stream_zip(members)])

    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = zipped.namelist()
        manifest = json.loads(zipped.read("manifest.json"))
        assert zipped.read(f"files/generated/{file_id}.png") == b"\x89PNG..."
    assert names == [
        "manifest.json",
        "data/privacy.json",
        "data/storage.json",
        f"files/generated/{file_id}.png",
    ]
    assert manifest["request_id"] == str(row.id) and manifest["rights"]
    assert manifest["user_files"] == [f"files/generated/{file_id}.png"]
