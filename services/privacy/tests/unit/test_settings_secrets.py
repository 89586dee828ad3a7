"""Privacy's secrets (certificate pepper, link and consent-id keys) are never guessable: local
runs derive them from a real service key; dev refuses to derive them from a placeholder one."""

from __future__ import annotations

import pytest
from aiflux_privacy.settings import LOCAL_SECRETS, PrivacySettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_dev_with_a_placeholder_service_key_is_refused():
    with pytest.raises(ValidationError, match="pseudonym_pepper"):
        PrivacySettings(env="dev", service_key="change-me")


def test_local_runs_derive_distinct_secrets_from_the_service_key():
    one = PrivacySettings(env="dev", service_key="a" * 32)
    other = PrivacySettings(env="dev", service_key="b" * 32)
    values = {name: one.secret(name) for name in LOCAL_SECRETS}
    assert len(set(values.values())) == len(LOCAL_SECRETS)
    assert all(v != "change-me" for v in values.values())
    assert all(other.secret(n) != values[n] for n in LOCAL_SECRETS)
    assert (
        PrivacySettings(env="dev", service_key="a" * 32).secret("link_secret") == values["link_secret"]
    )  # stable across restarts: links and certificates keep verifying
