"""Inputs schemathesis found answered with a 500, each now a clear problem."""

from __future__ import annotations

import uuid


def _problem(response, status, slug):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:aiflux:problem:{slug}"
    return body


async def test_a_withdrawal_link_with_a_non_ascii_signature_is_invalid(privacy):
    # ?sig=%C3%8A... was a 500 (hmac.compare_digest refuses non-ASCII str)
    user = str(uuid.uuid4())
    for sig in ("Ê\U0008f571JV", "\u0091", "ascii-but-wrong"):
        for method in ("GET", "POST"):
            response = await privacy.client.request(
                method, "/v1/privacy/consents/marketing/withdraw", params={"user": user, "sig": sig}
            )
            if method == "GET":  # the page opened from the mail
                assert response.status_code == 403, response.text
            else:
                _problem(response, 403, "invalid-link")


async def test_open_requests_page_bounds_are_validated(privacy):
    # ?limit=-88 (negative LIMIT) and a cursor beyond bigint were 500s
    admin = privacy.admin()
    for params in ({"limit": -88}, {"limit": 0}, {"cursor": 2**63}, {"cursor": "99999999999999999999999"}):
        body = _problem(
            await privacy.client.get("/v1/ops/privacy/requests", headers=admin, params=params),
            422,
            "validation-error",
        )
        assert ["query", next(iter(params))] in [e["loc"] for e in body["errors"]]
    far = await privacy.client.get("/v1/ops/privacy/requests", headers=admin, params={"cursor": 2**63 - 1})
    assert far.status_code == 200, far.text
    assert far.json()["items"] == []


async def test_a_campaign_with_nul_characters_is_refused_and_not_recorded(privacy):
    # {"subject": "...\u0000..."} was a 500 (PostgreSQL text cannot hold NUL)
    admin = privacy.admin()
    response = await privacy.client.post(
        "/v1/ops/privacy/marketing/campaigns", headers=admin, json={"subject": "Hi\u0000", "body": "news"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await privacy.sql("SELECT id FROM marketing_campaign") == []
