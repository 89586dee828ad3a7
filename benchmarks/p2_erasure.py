"""P2: erasure of a user with N generations and stored objects, from `DELETE /v1/account` to the
certificate on the ops API, on the local-disk store (the embedded mode) and on S3 (moto's
server); 10,000 objects; 50 users with 100 generations each erased at once.

The limit beside each is the bare deletion of the same number of objects on the same store: an
`os.unlink` loop on local disk, S3 `DeleteObjects` in batches of 1,000 on moto."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .harness import Bench, Row, run_bench_stack
from .seed import User, admin_of, s3_client, seed_content, sign_up, write_local_objects, write_s3_objects

OBJECT_BYTES = 1024
BUCKET = "aiflux"
DELETE_BATCH = 1000
CHECKS_AT_ONCE = 8  # the certificate poller's requests in flight


@dataclass(frozen=True)
class Case:
    """One erasure scenario and its goal (median seconds from request to certificate)."""

    label: str
    store: str  # "local" or "s3"
    users: int
    generations: int  # per user
    goal_s: float
    repeats: int | None = None  # None: the run's --repeat


def cases(bench: Bench) -> list[Case]:
    """The issue's scenarios at the run's scale."""
    n, big, many, each = bench.options.pick((20, 50, 3, 5), (1_000, 10_000, 50, 100))
    return [
        Case(f"erase a user with {n:,} generations+objects, local disk", "local", 1, n, 2.0),
        # Once: today it takes minutes (quadratic); the goal is linear, ≤ 10 s.
        Case(f"erase a user with {big:,} generations+objects, local disk", "local", 1, big, 10.0, repeats=1),
        Case(f"erase {many} users x {each} generations at once, local disk", "local", many, each, 15.0),
        # Last: it runs on a stack of its own (see s3_stack).
        Case(f"erase a user with {n:,} generations+objects, S3 (moto)", "s3", 1, n, 2.0),
    ]


@contextlib.asynccontextmanager
async def s3_stack(bench: Bench) -> AsyncIterator[Any]:
    """A stack whose storage uses moto's S3 server; closed after its case, so two stacks never
    hold PostgreSQL connections at once (the server is shared by everyone on the machine)."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(s3_client(endpoint).create_bucket, Bucket=BUCKET)
        async with run_bench_stack(
            bench,
            "s3",
            storage={
                "backend": "s3",
                "s3_endpoint_url": endpoint,
                "s3_bucket": BUCKET,
                "s3_region": "us-east-1",
                "s3_access_key_id": "testing",
                "s3_secret_access_key": "testing",
            },
        ) as running:
            yield running
    finally:
        moto.stop()


async def request_erasure(running: Any, user: User) -> str:
    """`DELETE /v1/account` as the user; the erasure request's id."""
    deleted = await running.client.request(
        "DELETE", "/v1/account", headers=user.headers, json={"password": user.password}
    )
    deleted.raise_for_status()
    return str(deleted.json()["request_id"])


async def certified(running: Any, admin: User, request_ids: list[str], within_s: float) -> None:
    """Wait until every request has its certificate, as one client: each round lists the open
    requests (one call per 200) and asks about its own requests only once they are no longer
    listed (finished, or not yet known to privacy), a few at a time. Asking about 50 requests
    one after the other took 2-3 s a round under load, longer than the erasures' own tail: it
    timed the poller."""
    pending = set(request_ids)
    deadline = time.perf_counter() + within_s
    gate = asyncio.Semaphore(CHECKS_AT_ONCE)

    async def check(request_id: str) -> None:
        async with gate:
            shown = await running.client.get(
                f"/v1/ops/privacy/requests/{request_id}", headers={"Cookie": admin.cookie}
            )
        if shown.status_code == 200 and shown.json().get("certificate"):
            pending.discard(request_id)

    while pending:
        await asyncio.gather(*map(check, pending - await open_request_ids(running, admin)))
        if pending and time.perf_counter() > deadline:
            raise TimeoutError(f"{len(pending)} erasure(s) without a certificate after {within_s:.0f} s")
        if pending:
            await asyncio.sleep(0.1)


async def open_request_ids(running: Any, admin: User) -> set[str]:
    """The ids of every open privacy request (the ops list, page by page)."""
    found: set[str] = set()
    cursor: str | None = "0"
    while cursor is not None:
        page = await running.client.get(
            "/v1/ops/privacy/requests",
            params={"limit": 200, "cursor": cursor},
            headers={"Cookie": admin.cookie},
        )
        page.raise_for_status()
        body = page.json()
        found.update(item["id"] for item in body["items"])
        cursor = body.get("next_cursor")
    return found


def raw_unlink(root: Path, keys: list[str]) -> float:
    """Seconds to unlink the same number of files on the same disk."""
    write_local_objects(root, keys, OBJECT_BYTES)
    started = time.perf_counter()
    for key in keys:
        os.unlink(root / key)
    return time.perf_counter() - started


def raw_s3_delete(endpoint: str, keys: list[str]) -> float:
    """Seconds to delete the same number of objects with S3 batch deletes."""
    client = s3_client(endpoint)
    write_s3_objects(client, BUCKET, keys, OBJECT_BYTES)
    started = time.perf_counter()
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        client.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
    return time.perf_counter() - started


async def one_round(bench: Bench, case: Case, running: Any, round_no: int) -> tuple[float, float]:
    """Seed the case's users, erase them all at once (timed), then the raw deletion."""
    admin = await admin_of(running)
    gate = asyncio.Semaphore(8)

    async def seeded_user() -> tuple[User, list[str]]:
        async with gate:
            user = await sign_up(running)
            content = await seed_content(
                running, user.user_id, case.generations, case.generations, OBJECT_BYTES
            )
            return user, content.object_keys

    made = await asyncio.gather(*(seeded_user() for _ in range(case.users)))
    timeout = bench.options.pick(120.0, 1800.0)
    with bench.profiler.around(f"P2 {case.label}"):
        started = time.perf_counter()
        request_ids = await asyncio.gather(*(request_erasure(running, user) for user, _ in made))
        await certified(running, admin, request_ids, timeout)
        elapsed = time.perf_counter() - started
    keys = [f"raw{round_no}/{key}" for _, user_keys in made for key in user_keys]
    if case.store == "local":
        raw = await asyncio.to_thread(raw_unlink, bench.tmp / "raw-objects", keys)
    else:
        endpoint = running.unit("storage").settings.s3_endpoint_url
        raw = await asyncio.to_thread(raw_s3_delete, endpoint, keys)
    return elapsed, raw


async def measure(bench: Bench) -> list[Row]:
    """Every case, repeated (the 10,000-object case once)."""
    rows = []
    for number, case in enumerate(cases(bench)):
        if case.store == "s3":
            await bench.close_stacks()
            async with s3_stack(bench) as running:
                rows.append(await measure_case(bench, case, running, number))
        else:
            rows.append(await measure_case(bench, case, await bench.stack(), number))
    return rows


async def measure_case(bench: Bench, case: Case, running: Any, number: int) -> Row:
    """One case ``--repeat`` times (or its own count); a failure ends it with an ERROR note."""
    repeats = case.repeats or bench.options.repeat
    row = Row(
        "P2",
        case.label,
        "s",
        False,
        max_value=case.goal_s,
        notes=[
            f"{repeats} run(s); raw: "
            + ("os.unlink loop" if case.store == "local" else "S3 DeleteObjects, 1,000 keys per call")
        ],
    )
    for round_no in range(repeats):
        try:
            system, raw = await one_round(bench, case, running, number * 100 + round_no)
        except Exception as exc:
            row.notes.append(f"ERROR {type(exc).__name__}: {exc}"[:300])
            break
        row.system.append(system)
        row.raw.append(raw)
    return row
