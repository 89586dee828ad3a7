"""Policy, processors and retention rules are data served by the API."""

from __future__ import annotations

import pytest
from aiflux_kit.http import UnregisteredProcessor, guard_host, processor_client
from aiflux_privacy.settings import PrivacySettings


async def test_policy_processors_and_retention_are_served(privacy):
    policy = (await privacy.client.get("/v1/privacy/policy")).json()
    assert policy["version"] == "2026-05-09"
    assert "Data Controller" in policy["text"]

    processors = (await privacy.client.get("/v1/privacy/processors")).json()["items"]
    by_id = {p["id"]: p for p in processors}
    assert {"stripe", "wavespeed", "gemini", "runpod", "posthog", "hetzner"} <= set(by_id)
    assert by_id["posthog"]["transfer_basis"] and by_id["hetzner"]["country"] == "DE"

    rules = (await privacy.client.get("/v1/privacy/retention")).json()["items"]
    sweeps = {(r["owner_service"], r["sweep"]) for r in rules}
    assert ("identity", "security-log-retention") in sweeps
    assert ("billing", "payment-retention") in sweeps
    assert ("privacy", "request-deadlines") in sweeps
    assert all(r["period"] and r["trigger"] and r["action"] for r in rules)
    own = {s.name for s in privacy.stack.unit("privacy").sweeps} | {"messaging-retention"}
    assert {r["sweep"] for r in rules if r["owner_service"] == "privacy"} <= own


async def test_registry_guard_refuses_an_unregistered_host():
    settings = PrivacySettings(
        env="production",
        service_key="k" * 32,
        pseudonym_pepper="p" * 32,
        link_secret="l" * 32,
        consent_id_secret="c" * 32,
        amqp_url="amqp://privacy:from-the-vault@rabbit:5672/aiflux",
    )
    async with processor_client("stripe", settings) as client:
        with pytest.raises(UnregisteredProcessor):
            await client.get("https://collector.example.com/upload")
        # A registered processor's host is no pass for another processor's data.
        with pytest.raises(UnregisteredProcessor):
            await client.get("https://api.wavespeed.ai/v1/jobs")
    # Its own registered endpoint passes the guard.
    guard_host("stripe", "api.stripe.com", allow_local=False)
