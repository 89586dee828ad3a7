"""In-memory fakes of billing's ports, handed to ``bootstrap.build`` (no PostgreSQL, no broker)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiflux_billing import bootstrap
from aiflux_billing.adapters.checkout import CheckoutSession, GatewayUnavailable
from aiflux_billing.domain.packs import CreditPack
from aiflux_billing.domain.records import AccountBalance, LedgerRecord, PaymentRecord
from aiflux_billing.domain.rules import PaymentStatus
from aiflux_billing.settings import BillingSettings
from aiflux_kit.service import Platform, ServiceUnit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def payment(
    user_id: uuid.UUID | None, seq: int, *, status: str = "paid", session_id: str | None = None
) -> PaymentRecord:
    """A paid starter pack, kept until 2036."""
    return PaymentRecord(
        seq=seq,
        payment_id=uuid.uuid4(),
        user_id=user_id,
        session_id=session_id or f"cs_test_{seq}",
        plan_id="starter",
        credits=100,
        amount=999,
        currency="eur",
        status=status,
        fulfilled_via="webhook",
        refunded_amount=0,
        credits_reversed=0,
        credits_unrecovered=0,
        created_at=NOW,
        paid_at=NOW,
        retain_until=date(2036, 3, 1),
    )


@dataclass
class FakeBilling:
    """Billing's tables in memory: one user's balance, ledger and payments; the receipts."""

    balances: dict[uuid.UUID, AccountBalance] = field(default_factory=dict)
    ledger: list[tuple[uuid.UUID, LedgerRecord]] = field(default_factory=list)
    holds: dict[uuid.UUID, int] = field(default_factory=dict)
    payments: list[PaymentRecord] = field(default_factory=list)
    erased: set[uuid.UUID] = field(default_factory=set)
    messages: dict[uuid.UUID, int] = field(default_factory=dict)
    receipts: dict[uuid.UUID, tuple[dict[str, int], list[dict[str, Any]]]] = field(default_factory=dict)

    def grant(self, user_id: uuid.UUID, credits: int) -> None:
        """A purchase: credits and a ledger entry."""
        held = self.balances.get(user_id, AccountBalance()).held
        self.balances[user_id] = AccountBalance(credits, held)
        self.ledger.append(
            (user_id, LedgerRecord(len(self.ledger) + 1, "purchase", credits, None, None, None, NOW))
        )

    # ExportReader and ErasureStore
    async def is_erased(self, user_id: uuid.UUID) -> bool:
        return user_id in self.erased

    async def balance(self, user_id: uuid.UUID) -> AccountBalance:
        return self.balances.get(user_id, AccountBalance())

    async def payments_of(self, user_id: uuid.UUID) -> list[PaymentRecord]:
        return [p for p in self.payments if p.user_id == user_id]

    async def ledger_of(self, user_id: uuid.UUID) -> list[LedgerRecord]:
        return [e for owner, e in self.ledger if owner == user_id]

    async def guard(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        self.erased.add(user_id)

    async def open_checkout_ids(self, user_id: uuid.UUID, statuses: tuple[str, ...]) -> list[str]:
        return [
            str(p.session_id)
            for p in self.payments
            if p.user_id == user_id and p.status in statuses and p.session_id
        ]

    async def delete_credits(self, user_id: uuid.UUID) -> dict[str, int]:
        entries = [e for e in self.ledger if e[0] == user_id]
        self.ledger = [e for e in self.ledger if e[0] != user_id]
        return {
            "ledger_entries": len(entries),
            "holds": int(self.holds.pop(user_id, 0) > 0),
            "balances": int(self.balances.pop(user_id, None) is not None),
        }

    async def pseudonymise_payments(self, user_id: uuid.UUID) -> list[date]:
        kept = [p.retain_until for p in self.payments if p.user_id == user_id]
        self.payments = [replace(p, user_id=None) if p.user_id == user_id else p for p in self.payments]
        return kept

    async def forget_messages(self, user_id: uuid.UUID) -> None:
        self.messages.pop(user_id, None)

    async def receipt(self, request_id: uuid.UUID) -> tuple[dict[str, int], list[dict[str, Any]]]:
        return self.receipts.get(request_id, ({}, []))

    async def save_receipt(
        self, request_id: uuid.UUID, deleted: dict[str, int], retained: list[dict[str, Any]]
    ) -> None:
        self.receipts[request_id] = (deleted, retained)

    async def remaining(self, user_id: uuid.UUID) -> dict[str, int]:
        return {
            "ledger_entries": len(await self.ledger_of(user_id)),
            "balances": int(user_id in self.balances),
            "payments_linked": len(await self.payments_of(user_id)),
            "outbox_events": self.messages.get(user_id, 0),
        }

    # PaymentBook
    async def fulfil(self, checkout: CheckoutSession, via: str) -> str:
        return self._set(checkout.id, PaymentStatus.PAID.value)

    async def set_status(self, checkout: CheckoutSession, status: PaymentStatus) -> str:
        return self._set(checkout.id, status.value)

    def _set(self, session_id: str, status: str) -> str:
        self.payments = [
            replace(p, status=status) if p.session_id == session_id else p for p in self.payments
        ]
        return status


@dataclass
class FakeGateway:
    """Stripe's Checkout Sessions, in memory; ``down`` makes every call fail like an outage."""

    down: bool = False
    paid: set[str] = field(default_factory=set)
    expired: list[str] = field(default_factory=list)
    by_intent: dict[str, CheckoutSession] = field(default_factory=dict)

    def _check(self) -> None:
        if self.down:
            raise GatewayUnavailable("APIConnectionError")

    async def create(self, payment_id: uuid.UUID, pack: CreditPack) -> CheckoutSession:
        self._check()
        return session(f"cs_{payment_id.hex}", "open", payment_id)

    async def retrieve(self, session_id: str) -> CheckoutSession | None:
        self._check()
        return None

    async def list_since(self, created_gte: int) -> Any:
        self._check()
        return
        yield

    async def expire(self, session_id: str) -> CheckoutSession | None:
        self._check()
        if session_id in self.paid:
            return session(session_id, "complete", None)
        self.expired.append(session_id)
        return session(session_id, "expired", None)

    async def find_by_payment_intent(self, payment_intent: str) -> CheckoutSession | None:
        self._check()
        return self.by_intent.get(payment_intent)


def session(session_id: str, status: str, payment_id: uuid.UUID | None) -> CheckoutSession:
    """A Stripe-shaped session (paid when complete)."""
    return CheckoutSession(
        id=session_id,
        url=f"https://checkout.stripe.com/c/pay/{session_id}",
        status=status,
        payment_status="paid" if status == "complete" else "unpaid",
        payment_id=payment_id,
        amount_total=999,
        currency="eur",
        created=0,
        payment_intent=None,
    )


@dataclass
class FakeExports:
    """Storage's export route: parts by key; ``cancelled`` answers like storage's 410."""

    cancelled: bool = False
    parts: dict[str, bytes] = field(default_factory=dict)

    async def put(self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: bytes) -> str | None:
        if self.cancelled:
            return None
        key = f"exports/{request_id}/{name}"
        self.parts[key] = body
        return key


def build_billing(tmp_path: Path, gateway: FakeGateway, exports: FakeExports) -> ServiceUnit:
    """The billing service from ``bootstrap.build``, its ports replaced by fakes."""
    platform = Platform(
        mode="embedded",
        broker=None,
        limiter=None,  # type: ignore[arg-type]
        data_dir=tmp_path,
    )
    settings = BillingSettings(env="test", checkout_backend="stripe", stripe_webhook_secret="whsec_unit")  # type: ignore[arg-type]
    return bootstrap.build(platform, settings, gateway=gateway, exports=exports)
