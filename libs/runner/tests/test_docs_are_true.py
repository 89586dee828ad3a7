"""Generated documents stay true: .env.example lists every setting of every service."""

from aiflux_runner.envdoc import ENV_EXAMPLE, render
from aiflux_runner.services import SERVICES, settings_class


def test_env_example_lists_every_setting():
    assert ENV_EXAMPLE.read_text() == render(), "settings changed: run `make env-example`"
    text = ENV_EXAMPLE.read_text()
    for service in SERVICES:
        assert f"{service.upper()}_DATABASE_URL=" in text
        assert f"{service.upper()}_SERVICE_KEY=" in text
        for name in settings_class(service).model_fields:
            assert f"_{name.upper()}=" in text, name
