"""``privacy.ExportRequested``: the user's generations and prompts as ``generation.json``.

The part is written as it is read: rows come from a server-side cursor a batch at a time and go
up to storage in chunks, so a user with any number of generations costs the same memory.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, cast

from aiflux_contracts import ExportRequested
from aiflux_contracts.receipts import ExportPartReady, ExportPartReadyBase
from aiflux_kit.consumers import HandlerContext

from ..domain.records import Generation
from .requests import file_url, view

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer

EXPORT_NAME = "generation.json"
CHUNK = 64 * 1024
# The per-service receipt classes are built at run time; this one has the base's fields.
GenerationExportPartReady = cast(type[ExportPartReadyBase], ExportPartReady["generation"])
log = logging.getLogger(__name__)


async def on_export_requested(c: GenerationContainer, ctx: HandlerContext, event: ExportRequested) -> None:
    """Write the user's generations and prompts as ``generation.json`` to the export.

    An erased user's export was cancelled by the erasure: the event finishes without a part.
    """
    store = c.stores.bound(ctx.session)
    if await store.is_erased(event.user_id):
        return

    def document() -> AsyncIterator[bytes]:
        return export_document(c, event.user_id, store.stream_user_generations(event.user_id))

    key = await c.storage.put_export(event.request_id, event.user_id, EXPORT_NAME, document)
    if key is None:
        log.info("export cancelled by an erasure", extra={"request_id": str(event.request_id)})
        return
    await ctx.publish(
        GenerationExportPartReady(
            request_id=event.request_id,
            user_id=event.user_id,
            prefix=key.rsplit("/", 1)[0] + "/",
            objects=[EXPORT_NAME],
        )
    )


async def export_document(
    c: GenerationContainer, user_id: uuid.UUID, jobs: AsyncIterator[Generation]
) -> AsyncIterator[bytes]:
    """``generation.json`` in chunks of about ``CHUNK`` bytes: ``service``, ``user_id`` and
    ``generations`` (one generation a line, oldest first)."""
    head = json.dumps({"service": "generation", "user_id": str(user_id)}, indent=2)
    pending = [head[:-2].encode(), b',\n  "generations": [']
    size, first = 0, True
    async for job in jobs:
        line = exported(c, job)
        pending.append(b"\n    " if first else b",\n    ")
        pending.append(line)
        size, first = size + len(line), False
        if size >= CHUNK:
            yield b"".join(pending)
            pending, size = [], 0
    pending.append(b"\n  ]\n}\n" if not first else b"]\n}\n")
    yield b"".join(pending)


def exported(c: GenerationContainer, job: Generation) -> bytes:
    """A generation as its owner sees it in the API (§2: prompt and result URLs), as one JSON
    object serialized by the API's own model (the same field formats), plus the provider and
    the inputs' public URLs: never object keys, internal hosts or provider job ids."""
    shown = view(c, job)
    inputs = [{"file_id": str(f), "url": file_url(c, str(f))} for f in shown.input_file_ids]
    extra = json.dumps({"provider": job.provider, "inputs": inputs}).encode()
    # Both are JSON objects: the API's fields, then the export's own (``{...}`` + ``, ...}``).
    return shown.model_dump_json(exclude={"input_file_ids"}).encode()[:-1] + b", " + extra[1:]
