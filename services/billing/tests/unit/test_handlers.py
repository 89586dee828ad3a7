"""The billing handlers on in-memory fakes handed to ``bootstrap.build``: no servers needed."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from aiflux_billing.adapters.checkout import GatewayUnavailable
from aiflux_billing.adapters.stripe_webhooks import event_payload, signature_header
from aiflux_billing.domain.errors import (
    InvalidSignature,
    PaymentProviderUnavailable,
    UnknownPlan,
)
from aiflux_billing.handlers import erasure, export, payments, webhooks
from aiflux_kit.service import ServiceUnit

from .fakes import FakeBilling, FakeExports, FakeGateway, build_billing, payment

pytestmark = pytest.mark.unit


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def exports() -> FakeExports:
    return FakeExports()


@pytest.fixture
def billing(tmp_path: Path, gateway: FakeGateway, exports: FakeExports) -> ServiceUnit:
    return build_billing(tmp_path, gateway, exports)


async def test_erasure_closes_checkouts_deletes_credits_and_keeps_payments_for_tax_law(
    billing: ServiceUnit, gateway: FakeGateway
) -> None:
    user, request = uuid.uuid4(), uuid.uuid4()
    store = FakeBilling()
    store.grant(user, 100)
    store.messages[user] = 3
    store.payments = [
        payment(user, 1),
        payment(user, 2, status="open", session_id="cs_open"),
        payment(user, 3, status="open", session_id="cs_paid_just_now"),
    ]
    gateway.paid.add("cs_paid_just_now")

    receipt = await erasure.erase_user(
        store, store, billing.container.gateway, user, request, outbox_keep_days=7
    )

    assert gateway.expired == ["cs_open"]
    assert receipt.deleted == {"ledger_entries": 1, "holds": 0, "balances": 1, "checkout_sessions_expired": 1}
    kept = [r for r in receipt.retained if r.category == "payments"]
    assert [(r.count, r.legal_basis, r.retention_rule) for r in kept] == [
        (3, erasure.PAYMENTS_LEGAL_BASIS, erasure.PAYMENTS_RULE)
    ]
    assert {p.status for p in store.payments} == {"paid", "expired"}
    assert await store.is_erased(user)
    answer = await erasure.verification(store, user, request)
    assert set(answer.remaining.values()) == {0}


async def test_a_redriven_erasure_adds_to_the_same_receipt(billing: ServiceUnit) -> None:
    user, request = uuid.uuid4(), uuid.uuid4()
    store = FakeBilling(payments=[payment(user, 1)])
    store.grant(user, 100)
    await erasure.erase_user(store, store, billing.container.gateway, user, request, 7)
    store.payments.append(payment(user, 2))  # a late payment, linked before the guard

    again = await erasure.erase_user(store, store, billing.container.gateway, user, request, 7)

    assert again.deleted["ledger_entries"] == 1
    assert [r.count for r in again.retained if r.category == "payments"] == [2]


async def test_erasure_while_stripe_is_down_raises_so_the_event_is_retried(
    billing: ServiceUnit, gateway: FakeGateway
) -> None:
    user = uuid.uuid4()
    store = FakeBilling(payments=[payment(user, 1, status="open")])
    gateway.down = True

    with pytest.raises(GatewayUnavailable):
        await erasure.erase_user(store, store, billing.container.gateway, user, uuid.uuid4(), 7)

    assert store.receipts == {}


async def test_export_writes_balance_payments_and_ledger_as_billing_json(
    billing: ServiceUnit, exports: FakeExports
) -> None:
    user, request, someone_else = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    store = FakeBilling(payments=[payment(user, 1), payment(someone_else, 2)])
    store.grant(user, 100)

    ready = await export.export_part(store, billing.container.exports, request, user)

    assert ready is not None
    assert ready.objects == ["billing.json"] and ready.prefix == f"exports/{request}"
    document = json.loads(exports.parts[f"exports/{request}/billing.json"])
    assert document["balance"] == {"credits": 100, "held": 0}
    assert [p["payment_id"] for p in document["payments"]] == [str(store.payments[0].payment_id)]
    assert [(e["kind"], e["credits"]) for e in document["ledger"]] == [("purchase", 100)]


async def test_export_of_an_erased_user_writes_no_part(billing: ServiceUnit, exports: FakeExports) -> None:
    user = uuid.uuid4()
    store = FakeBilling(erased={user})

    assert await export.export_part(store, billing.container.exports, uuid.uuid4(), user) is None
    assert exports.parts == {}


async def test_export_cancelled_by_storage_finishes_without_a_part(
    billing: ServiceUnit, exports: FakeExports
) -> None:
    exports.cancelled = True
    ready = await export.export_part(FakeBilling(), billing.container.exports, uuid.uuid4(), uuid.uuid4())
    assert ready is None


def test_a_webhook_signed_by_the_shared_helper_is_accepted_and_a_stale_one_refused(
    billing: ServiceUnit,
) -> None:
    secret = billing.container.settings.stripe_webhook_secret.get_secret_value()
    payload = event_payload("checkout.session.completed", {"id": "cs_1"})

    event = webhooks.verify(payload.encode(), signature_header(payload, secret), secret, 300)
    assert event["type"] == "checkout.session.completed"

    stale = signature_header(payload, secret, timestamp=int(time.time()) - 3600)
    with pytest.raises(InvalidSignature) as refused:
        webhooks.verify(payload.encode(), stale, secret, 300)
    assert refused.value.status == 400


async def test_a_refund_while_stripe_is_down_is_retried_by_stripe(
    billing: ServiceUnit, gateway: FakeGateway
) -> None:
    gateway.down = True
    event = json.loads(
        event_payload("charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "amount_refunded": 999})
    )

    with pytest.raises(PaymentProviderUnavailable) as refused:
        await webhooks.handle(billing.container.database, billing.container.gateway, event)

    assert refused.value.status == 503 and refused.value.slug == "payment-provider-unavailable"


def test_only_packs_on_sale_can_be_bought(billing: ServiceUnit) -> None:
    packs = billing.container.settings.credit_packs
    assert payments.pack_on_sale(packs, "pro").credits == 500
    with pytest.raises(UnknownPlan) as refused:
        payments.pack_on_sale(packs, "platinum")
    assert refused.value.status == 422


def test_every_stripe_signature_is_computed_by_one_helper() -> None:
    # Code and tests each had their own Stripe signing; now only adapters/stripe_webhooks signs.
    root = Path(__file__).resolve().parents[2]
    helper = root / "src" / "aiflux_billing" / "adapters" / "stripe_webhooks.py"
    signers = ("hmac.new(", "_compute_signature", "generate_signature_header", "hashlib.sha256")
    found = [
        (str(path.relative_to(root)), marker)
        for path in root.rglob("*.py")
        for marker in signers
        if marker in path.read_text() and path != helper and path != Path(__file__).resolve()
    ]
    assert found == []
