"""Privacy's erasure stays true while late requests and late messages arrive: the guard refuses
new writes, open exports are cancelled, minor reports go with the user, and verification counts
everything that still names the user."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

import httpx
from aiflux_contracts import (
    ErasureCompleted,
    ErasureVerificationRequested,
    ErasureVerified,
    ExportPartReady,
    PolicyAccepted,
    UserDeleted,
    UserNotificationRequested,
    UserRegistered,
)
from aiflux_privacy.handlers.export import build_archive


async def _erase(privacy, wait, user_id: uuid.UUID, **fields) -> tuple[uuid.UUID, dict]:
    """Deliver UserDeleted and return privacy's receipt."""
    request_id = uuid.uuid4()
    await privacy.publish(UserDeleted(user_id=user_id, request_id=request_id, **fields))

    async def receipt():
        return [
            r
            for r in await privacy.published(ErasureCompleted["privacy"])
            if r["request_id"] == str(request_id)
        ]

    return request_id, (await wait(receipt))[0]


async def _consent_rows(privacy, user_id: uuid.UUID) -> int:
    rows = await privacy.sql("SELECT count(*) AS n FROM consent_record WHERE subject_id = :u", u=user_id)
    return rows[0].n


async def test_an_old_session_cannot_store_consents_or_requests_after_erasure(privacy, wait):
    user_id, headers = privacy.user()
    await privacy.client.put("/v1/privacy/consents/marketing", json={"granted": True}, headers=headers)
    _, receipt = await _erase(privacy, wait, user_id)
    assert receipt["deleted"]["consent_records"] == 1

    # The session is still valid in a cache somewhere: every write for the user is refused.
    for method, path, body in (
        ("PUT", "/v1/privacy/consents/analytics", {"granted": True}),
        ("POST", "/v1/privacy/requests", {"type": "access"}),
        ("POST", "/v1/privacy/consents/link", None),
    ):
        answer = await privacy.client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 410, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"] == "urn:aiflux:problem:account-erased"
    # Events that were already on their way record nothing either.
    await privacy.publish(PolicyAccepted(user_id=user_id, version="2026-05-09"))
    await privacy.publish(
        UserRegistered(
            user_id=user_id,
            accepted_policy_version="2026-05-09",
            marketing_opt_in=True,
            age_confirmed_on=date(2026, 1, 1),
        )
    )
    other, _ = privacy.user()
    await privacy.publish(PolicyAccepted(user_id=other, version="2026-05-09"))
    await wait(lambda: _consent_rows(privacy, other))
    assert await _consent_rows(privacy, user_id) == 0
    assert (
        await privacy.sql(
            "SELECT count(*) AS n FROM privacy_request WHERE user_id = :u AND type <> 'erasure'", u=user_id
        )
    )[0].n == 0


async def test_erasure_cancels_open_exports_and_ignores_their_late_parts(privacy, wait):
    user_id, headers = privacy.user()
    filed = await privacy.client.post("/v1/privacy/requests", json={"type": "portability"}, headers=headers)
    export_id = uuid.UUID(filed.json()["id"])

    request_id, receipt = await _erase(privacy, wait, user_id)

    assert receipt["deleted"]["exports_cancelled"] == 1
    assert {i["category"] for i in receipt["retained"]} == {"erasure_guard", "erasure_messages"}
    # A service's part that arrives afterwards is not recorded: no archive can be assembled.
    await privacy.publish(
        ExportPartReady["billing"](
            request_id=export_id, user_id=user_id, prefix=f"exports/{export_id}/", objects=["billing.json"]
        )
    )
    await privacy.publish(ErasureVerificationRequested(request_id=request_id, user_id=user_id))

    async def verified():
        return await privacy.published(ErasureVerified["privacy"])

    [answer] = await wait(verified)
    assert answer["remaining"]["requests"] == 0
    assert answer["remaining"]["request_steps"] == 0
    assert (await privacy.sql("SELECT count(*) AS n FROM request_step WHERE request_id = :id", id=export_id))[
        0
    ].n == 0


async def test_minor_reports_about_the_user_are_erased_and_counted(privacy, wait):
    user_id, _ = privacy.user()
    reports = {}
    for account in ("kid_2010", "KID_2010", str(user_id), "Kid.Alias ", "someone_else"):
        answer = await privacy.client.post(
            "/v1/privacy/minor-reports",
            json={"account": account, "details": f"{account} says they are twelve"},
        )
        reports[account] = uuid.UUID(answer.json()["id"])
    # An operator confirmed the first report for this account (identity is not in this stack).
    await privacy.sql(
        "UPDATE minor_report SET status = 'confirmed', user_id = :u WHERE id = :id",
        u=user_id,
        id=reports["kid_2010"],
    )

    # The account's current username reaches privacy only as a hash, in UserDeleted.
    request_id, receipt = await _erase(
        privacy, wait, user_id, account_name_sha256=hashlib.sha256(b"kid.alias").hexdigest()
    )

    assert receipt["deleted"]["minor_reports"] == 4
    left = await privacy.sql("SELECT account, details FROM minor_report")
    assert [(r.account, r.details) for r in left] == [("someone_else", "someone_else says they are twelve")]
    # A report naming the user that arrives later is counted by verification.
    await privacy.client.post("/v1/privacy/minor-reports", json={"account": str(user_id)})
    await privacy.publish(ErasureVerificationRequested(request_id=request_id, user_id=user_id))

    async def verified():
        return await privacy.published(ErasureVerified["privacy"])

    [answer] = await wait(verified)
    assert answer["remaining"]["minor_reports"] == 1
    # Confirming that late report cannot start anything for the erased account.
    [late] = await privacy.sql("SELECT id FROM minor_report WHERE account = :a", a=str(user_id))
    decided = await privacy.client.post(
        f"/v1/ops/privacy/minor-reports/{late.id}/decision",
        headers=privacy.admin(),
        json={"confirmed": True, "reason": "confirmed", "user_id": str(user_id)},
    )
    assert decided.status_code == 410, decided.text
    assert (
        await privacy.sql(
            "SELECT count(*) AS n FROM privacy_request WHERE user_id = :u AND source = 'minor'", u=user_id
        )
    )[0].n == 0


async def test_the_status_link_shows_an_erasure_without_a_session(privacy, wait):
    user_id, headers = privacy.user()
    filed = await privacy.client.post("/v1/privacy/requests", json={"type": "erasure"}, headers=headers)
    assert filed.status_code == 202
    request_id = filed.json()["id"]
    link = httpx.URL(filed.json()["status_url"])
    assert link.path == f"/v1/privacy/requests/{request_id}/status"
    token = link.params["token"]
    privacy.client.cookies.clear()

    shown = await privacy.client.get(link.path, params={"token": token})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    body = shown.json()
    assert body["status"] == "in_progress" and body["due_at"] and body["outcome"] is None

    # A wrong token and an unknown id get the same answer: no oracle for request ids.
    wrong = (await privacy.client.get(link.path, params={"token": token[:-2] + "xx"})).json()
    unknown_id = str(uuid.uuid4())
    unknown = (
        await privacy.client.get(f"/v1/privacy/requests/{unknown_id}/status", params={"token": token})
    ).json()
    assert wrong == {**unknown, "request_id": request_id}
    assert wrong["status"] == "pending" and wrong["progress"] == {}

    await privacy.publish(
        UserDeleted(user_id=user_id, request_id=uuid.UUID(request_id), reason="privacy_request")
    )

    async def privacy_erased():
        progress = (await privacy.client.get(link.path, params={"token": token})).json()
        return progress["progress"].get("privacy", {}).get("erased")

    await wait(privacy_erased)


async def test_an_account_deletion_is_pending_until_privacy_hears_of_it(privacy, wait):
    user_id, _ = privacy.user()
    request_id, token = uuid.uuid4(), "a-token-only-the-user-holds"
    path = f"/v1/privacy/requests/{request_id}/status"
    before = (await privacy.client.get(path, params={"token": token})).json()
    assert before["status"] == "pending"

    await privacy.publish(
        UserDeleted(
            user_id=user_id,
            request_id=request_id,
            status_token_sha256=hashlib.sha256(token.encode()).hexdigest(),
        )
    )

    async def in_progress():
        shown = (await privacy.client.get(path, params={"token": token})).json()
        return shown["status"] == "in_progress" and shown

    shown = await wait(in_progress)
    assert shown["type"] == "erasure" and shown["due_at"]
    assert str(user_id) not in str(shown)


async def test_a_redriven_erasure_erases_what_exists_now_and_reports_totals(privacy, wait):
    user_id, headers = privacy.user()
    await privacy.client.put("/v1/privacy/consents/marketing", json={"granted": True}, headers=headers)
    request_id, first = await _erase(privacy, wait, user_id)
    assert first["deleted"]["consent_records"] == 1
    await wait(
        lambda: privacy.sql(
            "SELECT 1 FROM request_step WHERE request_id = :id AND service = 'privacy'", id=request_id
        )
    )
    # A write that passed its check just before the guard landed after the first run.
    await privacy.sql(
        "INSERT INTO consent_record (subject_id, subject_kind, purpose, granted,"
        " source) VALUES (:u, 'user', 'analytics', true, 'account')",
        u=user_id,
    )

    await privacy.publish(UserDeleted(user_id=user_id, request_id=request_id))

    async def second():
        answers = [
            r
            for r in await privacy.published(ErasureCompleted["privacy"])
            if r["request_id"] == str(request_id)
        ]
        return answers[1:]

    [again] = await wait(second)
    assert again["deleted"]["consent_records"] == 2
    assert await _consent_rows(privacy, user_id) == 0


async def test_no_archive_is_built_or_mailed_once_the_users_erasure_started(privacy):
    user_id, headers = privacy.user()
    filed = await privacy.client.post("/v1/privacy/requests", json={"type": "access"}, headers=headers)
    export_id = uuid.UUID(filed.json()["id"])
    # Every part was in and the assembler picked the request just as the erasure began.
    await privacy.sql("UPDATE privacy_request SET status = 'assembling' WHERE id = :id", id=export_id)
    await privacy.sql(
        "INSERT INTO erased_user (subject_sha256, request_id) VALUES (:s, :r)",
        s=hashlib.sha256(str(user_id).encode()).hexdigest(),
        r=uuid.uuid4(),
    )
    container = privacy.stack.container("privacy")

    await build_archive(container.database, container.storage, export_id, container.settings.public_url, 7)

    mails = [m for m in await privacy.published(UserNotificationRequested) if m["template"] == "export_ready"]
    assert mails == []
    [row] = await privacy.sql("SELECT status FROM privacy_request WHERE id = :id", id=export_id)
    assert row.status == "assembling"  # left to the erasure, which cancels it
