"""Fixtures of the storage tests: the service on local disk or on moto's S3 server over HTTP.

One running storage stack per backend is shared by a test module (each test works as its own
users), because starting and dropping a stack costs seconds on a shared machine.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aiflux_kit.testing import TestSessions
from aiflux_runner.testing import Stack, run_stack

SHARED_SETTINGS = {
    "max_image_bytes": 64 * 1024,
    "max_export_part_bytes": 1024 * 1024,
    "orphan_grace_s": 0,
    "orphan_sweep_interval_s": 3600,
    "archive_sweep_interval_s": 3600,
    "download_url_ttl_s": 60,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server, spoken to over real HTTP."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_settings(endpoint: str) -> dict[str, Any]:
    """Settings of the S3 backend on a fresh bucket of the moto server."""
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    return {
        "backend": "s3",
        "s3_endpoint_url": endpoint,
        "s3_bucket": bucket,
        "s3_access_key_id": "testing",
        "s3_secret_access_key": "testing",
    }


@pytest.fixture(scope="module")
def sessions() -> TestSessions:
    """Signed-in test users (shared with the module's stack)."""
    return TestSessions()


@pytest.fixture(scope="module", params=["local", "s3"])
async def stack(
    request: pytest.FixtureRequest,
    module_databases: Callable[[str], str],
    sessions: TestSessions,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """The storage service alone, served over HTTP, on local disk or on the S3 server."""
    backend: dict[str, Any] = {"backend": "local"}
    if request.param == "s3":
        backend = s3_settings(request.getfixturevalue("s3_endpoint"))
    data_dir: Path = tmp_path_factory.mktemp(f"storage-{request.param}")
    async with run_stack(
        module_databases,
        data_dir,
        services=["storage"],
        overrides={"storage": {**SHARED_SETTINGS, **backend}},
        platform_overrides={"session_verifier": sessions},
    ) as running:
        yield running
