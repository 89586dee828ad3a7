"""End to end with the real billing and storage services (internal routes over HTTP): buy
credits, upload a reference, generate through a provider's API, Repeat, fail, Delete."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from aiflux_kit.testing import TestSessions
from generation_doubles import png, serve_providers

from conftest import eventually, fast_settings

PAY_TOKEN = re.compile(r"name='token' value='([^']+)'")


async def _buy(client, headers) -> None:
    checkout = await client.post("/v1/billing/checkout", json={"plan_id": "starter"}, headers=headers)
    assert checkout.status_code in (200, 201), checkout.text
    path = urlparse(checkout.json()["checkout_url"]).path
    token = PAY_TOKEN.search((await client.get(path)).text).group(1)
    assert (await client.post(f"{path}/pay", data={"token": token})).status_code == 303


async def test_generation_with_real_billing_and_storage(stack_factory):
    sessions = TestSessions()
    async with (
        serve_providers() as providers,
        stack_factory(
            services=["billing", "storage", "generation"],
            overrides={
                "billing": {"checkout_backend": "simulated"},
                "generation": fast_settings(providers.base_url),
            },
            platform_overrides={"session_verifier": sessions},
        ) as stack,
    ):
        client = stack.client
        _, headers = sessions.sign_in()

        async def balance():
            return (await client.get("/v1/billing/balance", headers=headers)).json()

        await _buy(client, headers)
        start = (await eventually(lambda: _funded(balance)))["credits"]
        uploaded = await client.post(
            "/v1/files",
            headers=headers,
            data={"purpose": "reference"},
            files={"file": ("ref.png", png(), "image/png")},
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["file_id"]

        made = await client.post(
            "/v1/generations",
            headers=headers,
            json={"model": "flux-dev", "prompt": "a fox", "input_file_ids": [file_id]},
        )
        assert made.status_code == 202, made.text
        first = await _finished(client, headers, made.json()["id"])
        assert first["status"] == "completed", first
        output = first["outputs"][0]["file_id"]
        meta = (await client.get(f"/v1/files/{output}", headers=headers)).json()
        assert (meta["purpose"], meta["content_type"]) == ("output", "image/png")
        assert meta["generation_id"] == first["id"]
        after = await balance()
        assert (after["credits"], after["held"]) == (start - first["credits"], 0)

        repeated = await client.post(f"/v1/generations/{first['id']}/repeat", headers=headers)
        second = await _finished(client, headers, repeated.json()["id"])
        assert second["status"] == "completed"

        providers.fail_jobs.add("wavespeed")
        failed = await client.post(
            "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "x"}
        )
        failed_body = await _finished(client, headers, failed.json()["id"])
        assert failed_body["status"] == "failed"
        now = await balance()
        assert (now["credits"], now["held"]) == (start - 2 * first["credits"], 0)

        for gid in (first["id"], second["id"]):
            deleted = await client.delete(f"/v1/generations/{gid}", headers=headers)
            assert deleted.status_code == 204

        async def files_gone():
            out = await client.get(f"/v1/files/{output}", headers=headers)
            ref = await client.get(f"/v1/files/{file_id}", headers=headers)
            return out.status_code == 404 and ref.status_code == 404

        await eventually(files_gone)


async def _funded(balance):
    body = await balance()
    return body if body["credits"] > 0 else None


async def _finished(client, headers, gid):
    async def done():
        body = (await client.get(f"/v1/generations/{gid}", headers=headers)).json()
        return body if body["status"] in ("completed", "failed") else None

    return await eventually(done)
