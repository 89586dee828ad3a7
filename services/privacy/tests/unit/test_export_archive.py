"""The export archive's plan, as privacy hands it to storage (which builds the ZIP from its own
store): the manifest first, every service's part under ``data/``, the user's files under
``files/``."""

from __future__ import annotations

import uuid

import pytest
from aiflux_privacy.domain.records import PrivacyRequest
from aiflux_privacy.handlers.export import archive_plan

from .conftest import a_request

pytestmark = pytest.mark.unit


def export_request(user_id: uuid.UUID) -> PrivacyRequest:
    return a_request(user_id, "access", "assembling", "request")


def test_the_plan_lists_manifest_parts_and_files_in_order() -> None:
    user_id = uuid.uuid4()
    row = export_request(user_id)
    output, upload = uuid.uuid4(), uuid.uuid4()
    files = [
        {"file_id": output, "content_type": "image/png", "purpose": "output"},
        {"file_id": upload, "content_type": "video/mp4", "purpose": "reference"},
    ]
    parts = {"privacy": ["privacy.json"], "storage": ["storage.json", f"files/{output}", f"files/{upload}"]}

    plan = archive_plan(row, parts, files)

    assert plan["parts"] == [
        {"member": "data/privacy.json", "part": "privacy.json"},
        {"member": "data/storage.json", "part": "storage.json"},
    ]
    assert plan["files"] == [
        {"member": f"files/generated/{output}.png", "file_id": str(output)},
        {"member": f"files/uploads/{upload}.mp4", "file_id": str(upload)},
    ]
    manifest = plan["manifest"]
    assert manifest["request_id"] == str(row.id) and manifest["rights"]
    assert manifest["user_files"] == [f"files/generated/{output}.png", f"files/uploads/{upload}.mp4"]
    assert {c["service"]: c["files"] for c in manifest["categories"]} == {
        "privacy": ["privacy.json"],
        "storage": ["storage.json"],
    }
