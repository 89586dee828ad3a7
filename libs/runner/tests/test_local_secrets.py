"""Webhook secrets under `make up` (env=dev): never a placeholder anyone can sign with."""

from __future__ import annotations

import json
import time

import pytest
from aiflux_generation.adapters.providers.wavespeed import sign_webhook
from aiflux_runner.services import settings_class
from aiflux_runner.up import child_environment
from pydantic import ValidationError

WEBHOOK_SECRETS = {
    "generation": ("wavespeed_webhook_secret", "runpod_webhook_secret"),
    "billing": ("stripe_webhook_secret",),
}


def settings_under_make_up(service: str, master: str, monkeypatch: pytest.MonkeyPatch):
    """``service``'s settings as a `make up` child reads them from its environment."""
    with monkeypatch.context() as patch:
        for name, value in child_environment(master).items():
            patch.setenv(name, value)
        for secret in WEBHOOK_SECRETS[service]:  # what an unedited .env.example holds
            patch.setenv(f"{service.upper()}_{secret.upper()}", "change-me")
        return settings_class(service)()


@pytest.mark.parametrize("service", sorted(WEBHOOK_SECRETS))
def test_make_up_derives_webhook_secrets_of_its_own(service, monkeypatch):
    mine = settings_under_make_up(service, "master-of-this-install", monkeypatch)
    other = settings_under_make_up(service, "master-of-another-install", monkeypatch)
    assert mine.env == "dev"
    for name in WEBHOOK_SECRETS[service]:
        value = getattr(mine, name).get_secret_value()
        assert value.removeprefix("whsec_") not in ("", "change-me"), name
        assert value != getattr(other, name).get_secret_value(), name


@pytest.mark.parametrize("service", sorted(WEBHOOK_SECRETS))
def test_a_placeholder_webhook_secret_is_refused_outside_tests(service):
    # In dev with a placeholder service key there is nothing secret to derive from (production
    # refuses every placeholder already); tests derive from whatever key they have.
    placeholders = dict.fromkeys(WEBHOOK_SECRETS[service], "change-me")
    with pytest.raises(ValidationError, match="webhook_secret"):
        settings_class(service)(env="dev", service_key="change-me", **placeholders)
    in_tests = settings_class(service)(env="test", service_key="change-me", **placeholders)
    for name in WEBHOOK_SECRETS[service]:
        assert getattr(in_tests, name).get_secret_value().removeprefix("whsec_") != "change-me"


@pytest.mark.needs_postgres
async def test_a_webhook_signed_with_the_placeholder_is_refused(stack_factory):
    overrides = {
        "generation": {
            "env": "dev",
            "wavespeed_webhook_secret": "change-me",
            "runpod_webhook_secret": "change-me",
        }
    }
    async with stack_factory(services=["generation"], overrides=overrides) as stack:
        body = json.dumps({"id": "prediction-of-someone-else", "status": "completed"}).encode()
        now = str(int(time.time()))
        headers = {
            "webhook-id": "wh_forged",
            "webhook-timestamp": now,
            "webhook-signature": sign_webhook("change-me", "wh_forged", now, body),
            "content-type": "application/json",
        }
        forged = await stack.client.post("/v1/generation/webhooks/wavespeed", content=body, headers=headers)
        assert forged.status_code == 401, forged.text
        assert forged.json()["type"] == "urn:aiflux:problem:webhook-signature-invalid"
