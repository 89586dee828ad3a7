"""Inputs schemathesis found answered with a 500, each now a clear problem (or a page)."""

from __future__ import annotations

import uuid


def _problem(response, status, slug):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"urn:aiflux:problem:{slug}"


async def test_listing_pages_by_cursor_and_an_unknown_cursor_is_an_empty_page(harness):
    # GET /v1/generations?cursor=<any uuid> was a 500 (a row compared with a one-column row)
    h = harness
    _, headers = h.user()
    _, other_headers = h.user()
    made = []
    for _ in range(3):
        created = await h.client.post(
            "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "a cat"}
        )
        assert created.status_code == 202, created.text
        made.append(created.json()["id"])
    theirs = await h.client.post(
        "/v1/generations", headers=other_headers, json={"model": "flux-dev", "prompt": "a dog"}
    )
    assert theirs.status_code == 202

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        listed = await h.client.get("/v1/generations", headers=headers, params=params)
        assert listed.status_code == 200, listed.text
        seen += [item["id"] for item in listed.json()["items"]]
        cursor = listed.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 3

    for cursor in (str(uuid.uuid4()), theirs.json()["id"]):
        listed = await h.client.get("/v1/generations", headers=headers, params={"cursor": cursor})
        assert listed.status_code == 200, listed.text
        assert listed.json() == {"items": [], "next_cursor": None}


async def test_nul_characters_are_refused_before_credits_are_held(harness):
    h = harness
    _, headers = h.user()
    _problem(
        await h.client.post(
            "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "a\u0000b"}
        ),
        422,
        "invalid-prompt",
    )
    for params in ({"seed": "1\u00002"}, {"a\u0000": 1}):
        _problem(
            await h.client.post(
                "/v1/generations",
                headers=headers,
                json={"model": "flux-dev", "prompt": "x", "params": params},
            ),
            422,
            "invalid-params",
        )
    assert h.billing.holds == {}
    listed = await h.client.get("/v1/generations", headers=headers)
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_non_ascii_webhook_secrets_are_refused_not_500(harness):
    # A non-ASCII RunPod URL token, or WaveSpeed signature/timestamp ("²".isdigit() is True,
    # int("²") raises), was an unauthenticated 500.
    h = harness
    gid = uuid.uuid4()
    wrong = await h.client.post(f"/v1/generation/webhooks/runpod/{gid}/%C3%A9{'0' * 62}")
    _problem(wrong, 404, "not-found")
    url = "/v1/generation/webhooks/wavespeed"
    body = b'{"id": "p1"}'
    now = str(int(__import__("time").time())).encode()
    for stamp, signature in [(b"\xc2\xb2", b"v3,00"), (now, "v3,é".encode()), (b"1" * 40, b"v3,00")]:
        sent = await h.client.post(
            url,
            content=body,
            headers={
                "webhook-id": "msg_1",
                "webhook-timestamp": stamp,
                "webhook-signature": signature,
                "content-type": "application/json",
            },
        )
        _problem(sent, 401, "webhook-signature-invalid")
