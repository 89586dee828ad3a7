"""Erasure keeps only pseudonymised payments (tax law); export and verification answer privacy."""

from __future__ import annotations

import json
import uuid
from datetime import date

from aiflux_billing.testing import eventually
from aiflux_contracts import (
    Envelope,
    ErasureVerificationRequested,
    ExportRequested,
    UserDeleted,
)
from aiflux_kit.auth import mint_service_token
from aiflux_kit.erasure import guard_user


async def _deliver(billing, event) -> None:
    envelope = Envelope.wrap(event)
    await billing.stack.runtime.platform.broker.publish(
        envelope.routing_key,
        envelope.model_dump_json().encode(),
        message_id=str(envelope.event_id),
        headers={},
    )


async def _receipts(billing, user_id, routing_key: str, count: int = 1):
    async def published():
        found = await billing.published(routing_key, user_id)
        return found if len(found) >= count else None

    return await eventually(published)


async def test_after_user_deleted_payments_remain_unlinked_and_the_ledger_is_gone(billing):
    user_id, headers = billing.sessions.sign_in()
    paid = await billing.buy(headers)
    open_sid = await billing.checkout(headers, "pro")
    generation_id = uuid.uuid4()
    await billing.hold(user_id, generation_id, 10)
    await billing.settle(generation_id, "capture")
    await billing.hold(user_id, uuid.uuid4(), 5)
    request_id = uuid.uuid4()

    await _deliver(billing, UserDeleted(user_id=user_id, request_id=request_id))
    [receipt] = await _receipts(billing, user_id, "billing.erasure_completed.v1")

    payments = await billing.sql(
        "SELECT user_id, plan_id, amount, currency, status"
        " FROM payment WHERE stripe_session_id IN (:a, :b)"
        " ORDER BY amount",
        a=paid["id"],
        b=open_sid,
    )
    assert [tuple(p) for p in payments] == [
        (None, "starter", 999, "eur", "paid"),
        (None, "pro", 3999, "eur", "expired"),
    ]
    for table in ("ledger_entry", "hold", "account", "payment"):
        rows = await billing.sql(f"SELECT count(*) AS n FROM {table} WHERE user_id = :u", u=user_id)
        assert rows[0].n == 0, table
    assert billing.fake.sessions[open_sid]["status"] == "expired"  # nothing payable remains
    assert receipt["request_id"] == str(request_id)
    assert receipt["deleted"] == {
        "ledger_entries": 2,
        "holds": 2,
        "balances": 1,
        "checkout_sessions_expired": 1,
    }
    kept, *by_erasure = receipt["retained"]
    assert [r["category"] for r in by_erasure] == ["erasure_guard", "erasure_messages"]
    assert kept["category"] == "payments" and kept["count"] == 2
    assert (kept["legal_basis"], kept["retention_rule"]) == ("Art. 6(1)(c)", "payment-data")
    assert date.fromisoformat(kept["retained_until"]).year == date.today().year + 10
    assert (await billing.balance(headers))["credits"] == 0


async def test_a_redriven_erasure_repeats_the_same_receipt(billing):
    user_id, headers = billing.sessions.sign_in()
    await billing.buy(headers)
    request_id = uuid.uuid4()
    for _ in range(2):  # privacy re-drives: identity republishes with a new event id
        await _deliver(billing, UserDeleted(user_id=user_id, request_id=request_id))
    first, second = await _receipts(billing, user_id, "billing.erasure_completed.v1", 2)
    assert first["deleted"] == second["deleted"]
    assert first["retained"][0] == second["retained"][0]
    assert first["retained"][0]["count"] == 1
    # Each carries billing's own verification; the messages still in the outbox (the first
    # receipt among them, or already forgotten) vary between runs and are declared as kept.
    for receipt in (first, second):
        declared = {r["category"]: r["count"] for r in receipt["retained"]}
        remaining = receipt["remaining"]
        assert remaining["erasure_messages"] == declared["erasure_messages"] >= 1
        assert {k: v for k, v in remaining.items() if k != "erasure_messages"} == {
            "ledger_entries": 0,
            "holds": 0,
            "balances": 0,
            "payments_linked": 0,
            "erasure_guard": 1,
        }
    assert {r["category"] for r in first["retained"]} == {"payments", "erasure_guard", "erasure_messages"}


async def test_writes_for_an_erased_user_are_refused(billing):
    user_id, headers = billing.sessions.sign_in()  # a session still cached somewhere
    await billing.buy(headers)
    await _deliver(billing, UserDeleted(user_id=user_id, request_id=uuid.uuid4()))
    await _receipts(billing, user_id, "billing.erasure_completed.v1")

    checkout = await billing.client.post("/v1/billing/checkout", json={"plan_id": "starter"}, headers=headers)
    assert checkout.status_code == 410
    assert checkout.json()["type"] == "urn:aiflux:problem:account-erased"
    hold = await billing.hold(user_id, uuid.uuid4(), 1)
    assert hold.status_code == 410
    for table in ("payment", "hold", "account", "ledger_entry"):
        rows = await billing.sql(f"SELECT count(*) AS n FROM {table} WHERE user_id = :u", u=user_id)
        assert rows[0].n == 0, table


async def test_a_redelivered_erasure_erases_what_appeared_since(billing):
    user_id, headers = billing.sessions.sign_in()
    await billing.buy(headers)
    request_id = uuid.uuid4()
    await _deliver(billing, UserDeleted(user_id=user_id, request_id=request_id))
    [first] = await _receipts(billing, user_id, "billing.erasure_completed.v1")
    # A row written by a path that escaped the guard (what verification would count).
    await billing.sql("INSERT INTO account (user_id, available) VALUES (:u, 5) RETURNING user_id", u=user_id)

    await _deliver(billing, UserDeleted(user_id=user_id, request_id=request_id))
    _, second = await _receipts(billing, user_id, "billing.erasure_completed.v1", 2)
    assert first["deleted"]["balances"] == 1 and second["deleted"]["balances"] == 2
    rows = await billing.sql("SELECT count(*) AS n FROM account WHERE user_id = :u", u=user_id)
    assert rows[0].n == 0


async def test_verification_reports_nothing_left_and_retention_purges_old_payments(billing):
    user_id, headers = billing.sessions.sign_in()
    paid = await billing.buy(headers)
    request_id = uuid.uuid4()
    await _deliver(billing, UserDeleted(user_id=user_id, request_id=request_id))
    await _receipts(billing, user_id, "billing.erasure_completed.v1")

    await _deliver(billing, ErasureVerificationRequested(user_id=user_id, request_id=request_id))
    [verified] = await _receipts(billing, user_id, "billing.erasure_verified.v1")
    remaining = dict(verified["remaining"])
    remaining.pop("outbox_events")  # what is still on its way (the kit's tests count it)
    assert remaining == {
        "ledger_entries": 0,
        "holds": 0,
        "balances": 0,
        "payments_linked": 0,
        "erasure_guard": 1,
    }

    await billing.sql(
        "UPDATE payment SET retain_until = current_date - 1 WHERE stripe_session_id = :s RETURNING id",
        s=paid["id"],
    )
    counts = await billing.sweep("payment-retention")
    assert counts["payments_purged"] >= 1
    left = await billing.sql("SELECT id FROM payment WHERE stripe_session_id = :s", s=paid["id"])
    assert left == []


async def test_export_writes_billing_json_through_storage(billing_stack):
    async with billing_stack(services=("billing", "storage")) as billing:
        user_id, headers = billing.sessions.sign_in()
        await billing.buy(headers)
        request_id = uuid.uuid4()

        await _deliver(billing, ExportRequested(user_id=user_id, request_id=request_id))
        [part] = await _receipts(billing, user_id, "billing.export_part_ready.v1")

        assert part["objects"] == ["billing.json"]
        key = billing.stack.unit("storage").settings.trusted_callers["privacy"]
        token = mint_service_token("privacy", "storage", key.get_secret_value())
        stored = await billing.client.get(
            f"/internal/storage/exports/{request_id}/objects/billing.json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert stored.status_code == 200, stored.text
        document = json.loads(stored.content)
        assert [(p["plan_id"], p["amount"], p["status"]) for p in document["payments"]] == [
            ("starter", 999, "paid")
        ]
        assert [(e["kind"], e["credits"]) for e in document["ledger"]] == [("purchase", 100)]
        assert document["balance"] == {"credits": 100, "held": 0}


async def test_an_export_cancelled_by_storage_finishes_without_a_part(billing_stack):
    async with billing_stack(services=("billing", "storage")) as billing:
        user_id, headers = billing.sessions.sign_in()
        await billing.buy(headers)
        async with billing.stack.unit("storage").database.transaction() as session:
            await guard_user(session, user_id, uuid.uuid4())  # storage erased the user first
        export = ExportRequested(user_id=user_id, request_id=uuid.uuid4())

        await _deliver(billing, export)

        async def handled():
            return await billing.sql("SELECT 1 FROM inbox WHERE consumer = :c", c="billing.privacy-export")

        await eventually(handled)
        assert await billing.published("billing.export_part_ready.v1", user_id) == []
        assert await objects_under(billing, f"exports/{export.request_id}/") == []


async def objects_under(billing, prefix: str) -> list[str]:
    store = billing.stack.container("storage").store
    return [o.key for o in await store.list_prefix(prefix)]
