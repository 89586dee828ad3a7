"""The export part of an access request (``privacy.ExportRequested``): ``billing.json``.

The part is written to storage with ``?user_id=``; storage's 410 means an erasure cancelled the
export, and the event then finishes without a part.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from aiflux_contracts import ExportPartReady
from aiflux_contracts.receipts import ExportPartReadyBase

from ..domain.records import AccountBalance, LedgerRecord, PaymentRecord

PART_NAME = "billing.json"
PART_READY = cast(type[ExportPartReadyBase], ExportPartReady["billing"])


class ExportReader(Protocol):
    """What the export reads (adapters.repositories.BillingRepository in production)."""

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """Whether the user is erased or being erased."""

    async def balance(self, user_id: uuid.UUID) -> AccountBalance:
        """The user's balance."""

    async def payments_of(self, user_id: uuid.UUID) -> list[PaymentRecord]:
        """The user's payments, oldest first."""

    async def ledger_of(self, user_id: uuid.UUID) -> list[LedgerRecord]:
        """The user's ledger, oldest first."""


class ExportSink(Protocol):
    """Where export parts go (adapters.storage.StorageExports in production)."""

    async def put(self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: bytes) -> str | None:
        """Store a part; its key, or None when the export was cancelled (user erased)."""


async def export_part(
    reader: ExportReader, sink: ExportSink, request_id: uuid.UUID, user_id: uuid.UUID
) -> ExportPartReadyBase | None:
    """Write ``billing.json``; the event announcing it, or None when an erasure cancelled it."""
    if await reader.is_erased(user_id):
        return None
    document = await export_document(reader, user_id)
    key = await sink.put(request_id, user_id, PART_NAME, export_bytes(document))
    if key is None:
        return None
    return PART_READY(
        request_id=request_id,
        user_id=user_id,
        prefix=key.rsplit("/", 1)[0] if "/" in key else "",
        objects=[PART_NAME],
    )


async def export_document(reader: ExportReader, user_id: uuid.UUID) -> dict[str, Any]:
    """Everything billing holds about the user, machine-readable (portability)."""
    balance = await reader.balance(user_id)
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "balance": {"credits": balance.available, "held": balance.held},
        "payments": [payment_json(p) for p in await reader.payments_of(user_id)],
        "ledger": [entry_json(e) for e in await reader.ledger_of(user_id)],
    }


def payment_json(p: PaymentRecord) -> dict[str, Any]:
    """A payment as shown to its owner."""
    return {
        "payment_id": str(p.payment_id),
        "session_id": p.session_id,
        "plan_id": p.plan_id,
        "credits": p.credits,
        "amount": p.amount,
        "currency": p.currency,
        "status": p.status,
        "refunded_amount": p.refunded_amount,
        "created_at": p.created_at.isoformat(),
        "paid_at": p.paid_at.isoformat() if p.paid_at else None,
    }


def entry_json(e: LedgerRecord) -> dict[str, Any]:
    """A ledger entry as shown to its owner."""
    return {
        "id": e.id,
        "kind": e.kind,
        "credits": e.credits,
        "payment_id": str(e.payment_id) if e.payment_id else None,
        "generation_id": str(e.generation_id) if e.generation_id else None,
        "note": e.note,
        "created_at": e.created_at.isoformat(),
    }


def export_bytes(document: dict[str, Any]) -> bytes:
    """The ``billing.json`` export part."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode()
