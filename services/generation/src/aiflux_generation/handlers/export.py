"""``privacy.ExportRequested``: the user's generations and prompts as ``generation.json``."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, cast

from aiflux_contracts import ExportRequested
from aiflux_contracts.receipts import ExportPartReady, ExportPartReadyBase
from aiflux_kit.consumers import HandlerContext

from ..domain.records import Generation
from .requests import file_url, view

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer

EXPORT_NAME = "generation.json"
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
    jobs = await store.user_generations(event.user_id)
    document = {
        "service": "generation",
        "user_id": str(event.user_id),
        "generations": [exported(c, job) for job in jobs],
    }
    key = await c.storage.put_export(
        event.request_id,
        event.user_id,
        EXPORT_NAME,
        json.dumps(document, indent=2, default=_json_value).encode(),
    )
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


def exported(c: GenerationContainer, job: Generation) -> dict[str, Any]:
    """A generation as its owner sees it in the API (§2: prompt and result URLs): public
    download URLs and API paths only, never object keys, internal hosts or provider job ids."""
    shown = view(c, job).model_dump()
    inputs = [{"file_id": f, "url": file_url(c, f)} for f in shown.pop("input_file_ids")]
    return {**shown, "provider": job.provider, "inputs": inputs}


def _json_value(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
