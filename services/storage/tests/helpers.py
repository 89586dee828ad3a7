"""Helpers of the storage tests: peer tokens, events in and out, polling, uploads."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiflux_contracts import Event
from aiflux_kit.auth import mint_service_token, pair_key
from aiflux_kit.outbox import add_event
from aiflux_kit.settings import derive_secret
from sqlalchemy import text


def service_headers(caller: str) -> dict[str, str]:
    """Headers of a peer service calling storage's internal routes in a test stack."""
    key = pair_key(derive_secret("test-master-secret", f"service:{caller}"), "storage")
    return {"Authorization": f"Bearer {mint_service_token(caller, 'storage', key)}"}


async def publish(stack: Any, event: Event) -> None:
    """Publish ``event`` through the storage database's outbox onto the stack's bus."""
    async with stack.unit("storage").database.transaction() as session:
        await add_event(session, event)


async def published(stack: Any, routing_key: str) -> list[dict[str, Any]]:
    """Payloads storage has published (its outbox) under ``routing_key``."""
    async with stack.unit("storage").database.transaction() as session:
        rows = (
            (
                await session.execute(
                    text("SELECT body FROM outbox WHERE routing_key = :k ORDER BY id"), {"k": routing_key}
                )
            )
            .scalars()
            .all()
        )
    return [json.loads(body)["payload"] for body in rows]


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy, or fail at the deadline (generous, as
    the kit's: two test workers share a loaded 2-core machine; a passing check returns at once)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.1)


async def objects_under(stack: Any, prefix: str) -> list[str]:
    """Keys stored under ``prefix`` (asked of the store itself)."""
    return [o.key for o in await stack.container("storage").store.list_prefix(prefix)]


async def upload(
    stack: Any,
    headers: dict[str, str],
    data: bytes,
    filename: str,
    declared: str = "application/octet-stream",
    purpose: str = "reference",
) -> Any:
    """POST /v1/files as a browser would."""
    return await stack.client.post(
        "/v1/files", headers=headers, data={"purpose": purpose}, files={"file": (filename, data, declared)}
    )
