"""Users through the API (a real account, session and CSRF token), their content written
straight into the service databases and the object store: fast, and the same rows the services
would have written."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROMPT = "a lighthouse at dusk, oil on canvas"


@dataclass
class User:
    """A registered, verified, logged-in user of a bench stack."""

    user_id: uuid.UUID
    username: str
    password: str
    cookie: str  # the Cookie header value of the session
    headers: dict[str, str]  # the CSRF header of cookie-authenticated state changes


async def sign_up(stack: Any, *, admin: bool = False) -> User:
    """A new user on ``stack`` (registered, verified from the mailed link, logged in)."""
    from aiflux_identity.commands import set_admin
    from aiflux_identity.testing import register_and_login

    signed = await register_and_login(stack.client, stack.data_dir)
    stack.client.cookies.clear()  # each user carries its own cookie explicitly
    if admin:
        url = stack.unit("identity").settings.database_url
        assert await asyncio.to_thread(set_admin, url, signed.username, True)
    cookie = "; ".join(f"{k}={v}" for k, v in signed.cookies.items())
    return User(
        signed.user_id, signed.username, signed.password, cookie, {**signed.headers, "Cookie": cookie}
    )


def _connect(url: str) -> Any:
    import psycopg
    from aiflux_kit.db import psycopg_conninfo

    return psycopg.connect(psycopg_conninfo(url))


@dataclass
class Content:
    """What was seeded for one user: generation ids and stored objects (key → bytes size)."""

    generation_ids: list[uuid.UUID]
    object_keys: list[str]


def seed_generations(
    url: str, user_id: uuid.UUID, count: int, output_file_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """``count`` completed local-image generations; the first ones own one output file each."""
    ids = [uuid.uuid4() for _ in range(count)]
    with (
        _connect(url) as conn,
        conn.cursor() as cursor,
        cursor.copy(
            "COPY generation (id, user_id, model, modality, provider, provider_model, "
            "prompt, credits, status, output_file_ids, outputs_stored, deadline_at, "
            "finished_at) FROM STDIN"
        ) as copy,
    ):
        for n, generation_id in enumerate(ids):
            outputs = [str(output_file_ids[n])] if n < len(output_file_ids) else []
            copy.write_row(
                (
                    generation_id,
                    user_id,
                    "local-image",
                    "image",
                    "local",
                    "local/image",
                    f"{PROMPT} #{n}",
                    1,
                    "completed",
                    json.dumps(outputs),
                    True,
                    "now()",
                    "now()",
                )
            )
    return ids


def seed_files(
    url: str, user_id: uuid.UUID, file_ids: list[uuid.UUID], generation_ids: list[uuid.UUID], size: int
) -> list[tuple[str, str]]:
    """Storage rows of generated outputs; returns (object key, sha256) per file."""
    from aiflux_storage.domain.keys import file_key

    made = []
    with (
        _connect(url) as conn,
        conn.cursor() as cursor,
        cursor.copy(
            "COPY stored_file (id, user_id, content_type, kind, size, sha256, purpose, "
            "generation_id, object_key) FROM STDIN"
        ) as copy,
    ):
        for file_id, generation_id in zip(file_ids, generation_ids, strict=False):
            key = file_key(user_id, file_id)
            digest = hashlib.sha256(str(file_id).encode()).hexdigest()
            copy.write_row(
                (file_id, user_id, "image/png", "image", size, digest, "output", generation_id, key)
            )
            made.append((key, digest))
    return made


def media_bytes(size: int) -> bytes:
    """Incompressible bytes, like real (already compressed) media."""
    return os.urandom(size)


def write_local_objects(root: Path, keys: list[str], size: int) -> None:
    """The objects as the local-disk store keeps them: one file per key under ``root``."""
    body = media_bytes(size)
    for key in keys:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def write_s3_objects(client: Any, bucket: str, keys: list[str], size: int) -> None:
    """The objects in an S3 bucket."""
    from concurrent.futures import ThreadPoolExecutor

    body = media_bytes(size)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=body), keys))


async def seed_content(stack: Any, user_id: uuid.UUID, generations: int, files: int, size: int) -> Content:
    """``generations`` generations of ``user_id``, ``files`` of them with an output of
    ``size`` bytes in the stack's object store (local disk or S3)."""
    file_ids = [uuid.uuid4() for _ in range(files)]
    generation_ids = await asyncio.to_thread(
        seed_generations, stack.unit("generation").settings.database_url, user_id, generations, file_ids
    )
    made = await asyncio.to_thread(
        seed_files, stack.unit("storage").settings.database_url, user_id, file_ids, generation_ids, size
    )
    keys = [key for key, _ in made]
    store = stack.container("storage").store
    if hasattr(store, "root"):
        await asyncio.to_thread(write_local_objects, store.root, keys, size)
    else:
        settings = stack.unit("storage").settings
        await asyncio.to_thread(
            write_s3_objects, s3_client(settings.s3_endpoint_url), settings.s3_bucket, keys, size
        )
    return Content(generation_ids, keys)


def s3_client(endpoint: str) -> Any:
    """A boto3 client of the moto server."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's local server
    )


async def admin_of(stack: Any) -> User:
    """The stack's operator (made on first use): reads erasure progress on the ops API."""
    admin = getattr(stack, "bench_admin", None)
    if admin is None:
        admin = await sign_up(stack, admin=True)
        stack.bench_admin = admin
    return admin
