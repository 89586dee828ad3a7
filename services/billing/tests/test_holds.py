"""Holds for generations: reserve, capture, void; the balance never goes negative."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from aiflux_billing.domain.rules import EntryKind
from aiflux_billing.handlers.credits import grant


async def _funded_user(billing, credits: int):
    user_id, headers = billing.sessions.sign_in()
    async with billing.container.database.transaction() as session:
        await grant(session, user_id, credits, EntryKind.ADJUSTMENT, note="test funds")
    return user_id, headers


async def test_200_concurrent_reservations_against_100_credits(billing):
    user_id, headers = await _funded_user(billing, 100)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=billing.stack.base_url, limits=limits, timeout=60) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/internal/billing/holds",
                    headers=billing.generation_headers(),
                    json={"user_id": str(user_id), "generation_id": str(uuid.uuid4()), "credits": 1},
                )
                for _ in range(200)
            )
        )

    codes = [a.status_code for a in answers]
    assert codes.count(201) == 100
    assert codes.count(402) == 100
    refused = next(a for a in answers if a.status_code == 402).json()
    assert refused["type"] == "urn:aiflux:problem:insufficient-credits"
    assert await billing.balance(headers) == {"credits": 0, "held": 100, "spending_frozen": False}
    rows = await billing.sql("SELECT count(*) AS n FROM hold WHERE user_id = :u", u=user_id)
    assert rows[0].n == 100


async def test_a_failed_generation_voids_its_hold_exactly_once(billing):
    user_id, headers = await _funded_user(billing, 10)
    generation_id = uuid.uuid4()
    assert (await billing.hold(user_id, generation_id, 4)).status_code == 201

    voids = await asyncio.gather(
        *(billing.settle(generation_id, "void", reason="provider error") for _ in range(5))
    )
    later = await billing.settle(generation_id, "void", reason="retry")

    assert all(v.status_code == 200 and v.json()["status"] == "voided" for v in (*voids, later))
    assert await billing.balance(headers) == {"credits": 10, "held": 0, "spending_frozen": False}
    assert len(await billing.published("billing.credits_released.v1", user_id)) == 1
    capture = await billing.settle(generation_id, "capture")
    assert (capture.status_code, capture.json()["type"]) == (409, "urn:aiflux:problem:hold-voided")


async def test_a_completed_generation_spends_once_and_repeats_are_the_same_hold(billing):
    user_id, headers = await _funded_user(billing, 10)
    generation_id = uuid.uuid4()
    first = await billing.hold(user_id, generation_id, 3)
    again = await billing.hold(user_id, generation_id, 3)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["hold_id"] == again.json()["hold_id"]

    for _ in range(2):
        captured = await billing.settle(generation_id, "capture")
        assert captured.json()["status"] == "captured"

    assert await billing.balance(headers) == {"credits": 7, "held": 0, "spending_frozen": False}
    ledger = (await billing.client.get("/v1/billing/ledger", headers=headers)).json()["items"]
    assert [(e["kind"], e["credits"]) for e in ledger] == [("spend", -3), ("adjustment", 10)]
    void = await billing.settle(generation_id, "void")
    assert (void.status_code, void.json()["type"]) == (409, "urn:aiflux:problem:hold-captured")


async def test_holds_are_only_for_the_generation_service(billing):
    user_id, _ = await _funded_user(billing, 5)
    body = {"user_id": str(user_id), "generation_id": str(uuid.uuid4()), "credits": 1}
    anonymous = await billing.client.post("/internal/billing/holds", json=body)
    _, user_headers = billing.sessions.sign_in()
    as_user = await billing.client.post("/internal/billing/holds", json=body, headers=user_headers)
    assert anonymous.status_code == as_user.status_code == 403
    bad = await billing.client.post(
        "/internal/billing/holds", headers=billing.generation_headers(), json={**body, "credits": 0}
    )
    assert bad.status_code == 422
    unknown = await billing.settle(uuid.uuid4(), "capture")
    assert unknown.status_code == 404


async def test_stale_holds_are_voided_by_the_sweep(billing):
    user_id, headers = await _funded_user(billing, 5)
    stale, fresh = uuid.uuid4(), uuid.uuid4()
    await billing.hold(user_id, stale, 2)
    await billing.hold(user_id, fresh, 1)
    await billing.sql(
        "UPDATE hold SET expires_at = now() - interval '1 minute' WHERE generation_id = :g RETURNING id",
        g=stale,
    )

    counts = await billing.sweep("hold-expiry")

    assert counts["holds_voided"] >= 1
    assert await billing.balance(headers) == {"credits": 4, "held": 1, "spending_frozen": False}
    late = await billing.settle(stale, "capture")
    assert late.status_code == 409
