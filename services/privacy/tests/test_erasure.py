"""The erasure process manager: receipts from every service, verification, certificate,
re-drive of a stalled step."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

from aiflux_contracts import (
    ErasureCompleted,
    ErasureRequested,
    ErasureVerificationRequested,
    ErasureVerified,
    RetainedItem,
    UserDeleted,
    UserNotificationRequested,
    UserPurged,
    UserRegistered,
)
from aiflux_kit.testing import eventually

PAYMENTS = RetainedItem(
    category="payments", count=1, legal_basis="Art. 6(1)(c)", retained_until=date(2036, 11, 28)
)


async def _status(privacy, request_id):
    rows = await privacy.sql("SELECT status FROM privacy_request WHERE id = :id", id=request_id)
    return rows[0].status if rows else None


async def _answer_receipts(
    privacy, user_id, request_id, services=("identity", "billing", "generation", "storage"), deleted=None
):
    # The services' receipts answer the erasure privacy opened on UserDeleted (another queue):
    # one arriving first would be retried, then parked, on a loaded machine.
    await eventually(lambda: _status(privacy, request_id))
    for service in services:
        retained = [PAYMENTS] if service == "billing" else []
        await privacy.publish(
            ErasureCompleted[service](
                request_id=request_id, user_id=user_id, deleted=deleted or {"rows": 2}, retained=retained
            )
        )


async def _answer_verifications(privacy, user_id, request_id, residue=None):
    for service in ("identity", "billing", "generation", "storage"):
        remaining = {"payments": 1} if service == "billing" else {"rows": 0}
        remaining.update((residue or {}).get(service, {}))
        await privacy.publish(
            ErasureVerified[service](request_id=request_id, user_id=user_id, remaining=remaining)
        )


async def test_account_deletion_completes_with_receipts_and_a_certificate(privacy, wait):
    user_id, headers = privacy.user()
    await privacy.publish(
        UserRegistered(
            user_id=user_id,
            accepted_policy_version="2026-05-09",
            marketing_opt_in=True,
            age_confirmed_on=date(2026, 1, 1),
        )
    )
    await privacy.client.post("/v1/privacy/requests", json={"type": "restriction"}, headers=headers)
    request_id = uuid.uuid4()
    token = "the-status-link-token"
    await privacy.publish(
        UserDeleted(
            user_id=user_id,
            request_id=request_id,
            status_token_sha256=hashlib.sha256(token.encode()).hexdigest(),
        )
    )
    await _answer_receipts(privacy, user_id, request_id)

    async def verifying():
        return await _status(privacy, request_id) == "verifying"

    await wait(verifying)
    [asked] = await privacy.published(ErasureVerificationRequested)
    assert asked == {"request_id": str(request_id), "user_id": str(user_id)}
    # Privacy answers for itself: it already erased the consents and the restriction.
    own = await wait(
        lambda: privacy.sql(
            "SELECT verification FROM request_step WHERE request_id = :id AND service = 'privacy'"
            " AND verification IS NOT NULL",
            id=request_id,
        )
    )
    remaining = own[0].verification["remaining"]
    # Only the guard (declared in the receipt) is left; no published message names the user.
    assert remaining.pop("erasure_guard") == 1
    assert set(remaining.values()) == {0} and "outbox_events" in remaining

    await _answer_verifications(privacy, user_id, request_id)

    async def completed():
        return await _status(privacy, request_id) == "completed"

    await wait(completed)
    [row] = await privacy.sql(
        "SELECT user_id, certificate FROM privacy_request WHERE id = :id", id=request_id
    )
    assert row.user_id is None
    certificate = row.certificate
    assert str(user_id) not in str(certificate)
    assert len(certificate["subject_sha256"]) == 64
    assert set(certificate["services"]) == {"identity", "billing", "generation", "storage", "privacy"}
    assert certificate["services"]["privacy"]["deleted"]["consent_records"] == 2
    assert certificate["retained"][0] == {**PAYMENTS.model_dump(mode="json"), "service": "billing"}
    declared = {(i["service"], i["category"]) for i in certificate["retained"][1:]}
    assert declared == {("privacy", "erasure_guard"), ("privacy", "erasure_messages")}
    mails = [
        m
        for m in await privacy.published(UserNotificationRequested)
        if m["template"] == "erasure_confirmation"
    ]
    assert [m["user_id"] for m in mails] == [str(user_id)]
    leftovers = await privacy.sql(
        "SELECT (SELECT count(*) FROM consent_record WHERE subject_id = :u)"
        " + (SELECT count(*) FROM privacy_request WHERE user_id = :u)"
        " + (SELECT count(*) FROM restriction WHERE user_id = :u) AS n",
        u=user_id,
    )
    assert leftovers[0].n == 0
    admin = privacy.admin()
    shown = (await privacy.client.get(f"/v1/ops/privacy/requests/{request_id}", headers=admin)).json()
    assert shown["status"] == "completed" and shown["certificate"] == certificate
    # The user follows it through the status link: outcome and counts, nothing identifying.
    privacy.client.cookies.clear()
    public = (
        await privacy.client.get(f"/v1/privacy/requests/{request_id}/status", params={"token": token})
    ).json()
    assert public["status"] == "completed" and public["outcome"] == "erased"
    assert public["certificate"]["deleted"]["privacy"]["consent_records"] == 2
    assert all(step["erased"] and step["verified"] for step in public["progress"].values())
    assert certificate["subject_sha256"] not in str(public) and str(user_id) not in str(public)

    # Identity's purge 30 days later is noted on the certificate, found by the hash alone.
    await privacy.publish(UserPurged(user_id=user_id))

    async def purged():
        rows = await privacy.sql("SELECT certificate FROM privacy_request WHERE id = :id", id=request_id)
        return rows[0].certificate.get("identity_purged_at")

    await wait(purged)


async def test_a_stalled_step_is_redriven_and_residue_blocks_the_certificate(privacy, wait):
    user_id, headers = privacy.user()
    filed = await privacy.client.post("/v1/privacy/requests", json={"type": "erasure"}, headers=headers)
    assert filed.status_code == 202
    request_id = uuid.UUID(filed.json()["id"])
    assert (await privacy.published(ErasureRequested))[0]["request_id"] == str(request_id)

    # Identity carries it out, but storage never answers.
    await privacy.publish(UserDeleted(user_id=user_id, request_id=request_id, reason="privacy_request"))
    await _answer_receipts(privacy, user_id, request_id, ("identity", "billing", "generation"))
    await wait(
        lambda: privacy.sql(
            "SELECT 1 FROM request_step WHERE request_id = :id AND"
            " service = 'privacy' AND receipt_at IS NOT NULL",
            id=request_id,
        )
    )
    swept = await privacy.stack.runtime.run_sweep("privacy", "erasure-redrive")
    assert swept.counts["erasures"] == 1
    assert len(await privacy.published(ErasureRequested)) == 2

    await _answer_receipts(privacy, user_id, request_id, ("storage",))

    async def verifying():
        return await _status(privacy, request_id) == "verifying"

    await wait(verifying)
    # Generation still holds two prompts it never declared: no certificate.
    await _answer_verifications(privacy, user_id, request_id, residue={"generation": {"prompts": 2}})

    # The unclean verification re-drives the erasure at once, without waiting for the sweep.
    async def redriven():
        return len(await privacy.published(ErasureRequested)) == 3

    await wait(redriven)
    assert await _status(privacy, request_id) == "in_progress"
    [row] = await privacy.sql("SELECT redrives FROM privacy_request WHERE id = :id", id=request_id)
    assert row.redrives == 2

    # Generation erases again; a fresh verification round comes out clean.
    await _answer_receipts(privacy, user_id, request_id, ("generation",), deleted={"rows": 2, "prompts": 2})
    await wait(verifying)
    await _answer_verifications(privacy, user_id, request_id)

    async def completed():
        return await _status(privacy, request_id) == "completed"

    await wait(completed)
    [row] = await privacy.sql("SELECT certificate FROM privacy_request WHERE id = :id", id=request_id)
    assert row.certificate["services"]["generation"]["deleted"] == {"rows": 2, "prompts": 2}
