"""P5: access export of a user with 10,000 generations and 1,000 stored files (~130 MB), from
`POST /v1/privacy/requests {"type": "access"}` to the request completed with its archive ready,
and the growth of this process's RSS meanwhile (the stack runs in this process, as in the
embedded mode). The limit: `stream-zip` of the same files, read from the same disk, to a file
(media stored, not deflated: it is already compressed)."""

from __future__ import annotations

import asyncio
import contextlib
import stat
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .harness import Bench, Row
from .seed import User, seed_content, sign_up

EXPORT_GOAL_S = 8.0
RSS_GOAL_MB = 100.0
CHUNK = 256 * 1024


@contextlib.asynccontextmanager
async def peak_rss_growth() -> AsyncIterator[list[float]]:
    """Sample this process's RSS every 50 ms; the yielded list gets the peak growth in MB."""
    import psutil

    process = psutil.Process()
    before = process.memory_info().rss
    peak = before
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, process.memory_info().rss)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)

    growth: list[float] = []
    sampler = asyncio.create_task(sample())
    try:
        yield growth
    finally:
        stop.set()
        await sampler
        growth.append((peak - before) / 2**20)


async def export(running: Any, user: User, within_s: float) -> float:
    """Seconds from filing an access request to the request completed (archive ready)."""
    started = time.perf_counter()
    filed = await running.client.post("/v1/privacy/requests", json={"type": "access"}, headers=user.headers)
    filed.raise_for_status()
    request_id = filed.json()["id"]
    while time.perf_counter() - started < within_s:
        shown = await running.client.get(
            f"/v1/privacy/requests/{request_id}", headers={"Cookie": user.cookie}
        )
        if shown.status_code == 200 and shown.json()["status"] == "completed":
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the export was not ready after {within_s:.0f} s")


def raw_zip(root: Path, keys: list[str], target: Path) -> float:
    """Seconds to stream-zip the files under ``root`` into ``target``."""
    from stream_zip import NO_COMPRESSION_64, stream_zip

    def chunks(path: Path) -> Iterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    now = datetime.now(UTC)
    members = (
        (f"files/{key.rsplit('/', 1)[-1]}", now, stat.S_IFREG | 0o600, NO_COMPRESSION_64, chunks(root / key))
        for key in keys
    )
    started = time.perf_counter()
    with target.open("wb") as out:
        for chunk in stream_zip(members):
            out.write(chunk)
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


async def measure(bench: Bench) -> list[Row]:
    """One seeded user exported ``--repeat`` times, each beside the raw zip of its files."""
    generations, files, size = bench.options.pick((50, 10, 130_000), (10_000, 1_000, 130_000))
    running = await bench.stack()
    user = await sign_up(running)
    content = await seed_content(running, user.user_id, generations, files, size)
    label = f"access export: {generations:,} generations + {files:,} files of {size // 1000} kB"
    duration = Row(
        "P5",
        label,
        "s",
        False,
        max_value=EXPORT_GOAL_S,
        notes=["raw: stream-zip of the same files from the same disk to a file"],
    )
    memory = Row("P5", "RSS growth of the process during that export", "MB", False, max_value=RSS_GOAL_MB)
    root = running.container("storage").store.root
    for _ in range(bench.options.repeat):
        try:
            with bench.profiler.around("P5 export"):
                async with peak_rss_growth() as growth:
                    duration.system.append(await export(running, user, bench.options.pick(120.0, 900.0)))
        except Exception as exc:
            duration.notes.append(f"ERROR {type(exc).__name__}: {exc}"[:300])
            break
        memory.system.extend(growth)
        duration.raw.append(
            await asyncio.to_thread(raw_zip, root, content.object_keys, bench.tmp / "raw-export.zip")
        )
    return [duration, memory]
