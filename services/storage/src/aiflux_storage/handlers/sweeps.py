"""Scheduled sweeps: objects nobody knows about, and expired export archives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..adapters.objects import delete_keys, delete_prefix
from ..bootstrap import StorageContainer
from ..domain import keys


async def sweep_orphan_objects(c: StorageContainer) -> dict[str, int]:
    """Delete user objects without metadata, older than the grace period.

    The grace period spares uploads in flight (their object is written just before their
    metadata row).
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=c.settings.orphan_grace_s)
    listed = await c.store.list_prefix(keys.USERS_PREFIX)
    candidates = {o.key: keys.file_id_of(o.key) for o in listed if o.last_modified < cutoff}
    ids = [i for i in candidates.values() if i is not None]
    async with c.records.transaction() as records:
        known = await records.known_file_ids(ids)
    orphans = [k for k, file_id in candidates.items() if file_id not in known]
    deleted = await delete_keys(c.store, orphans)
    return {"scanned": len(listed), "deleted": deleted}


async def sweep_expired_archives(c: StorageContainer) -> dict[str, int]:
    """Delete export archives and parts past their 7-day expiry, objects and rows."""
    now = datetime.now(UTC)
    async with c.records.transaction() as records:
        expired = await records.expired_exports(now)
    deleted = 0
    for request_id in expired:
        deleted += await delete_prefix(c.store, keys.export_prefix(request_id))
    async with c.records.transaction() as records:
        await records.forget_exports(expired)
    # Objects of an export whose row was never written (a crash after the upload) age out too.
    stale = now - timedelta(days=c.settings.export_ttl_days)
    listed = await c.store.list_prefix(keys.EXPORTS_PREFIX)
    leftovers = [o.key for o in listed if o.last_modified < stale]
    deleted += await delete_keys(c.store, leftovers)
    return {"exports": len(expired), "deleted": deleted}
