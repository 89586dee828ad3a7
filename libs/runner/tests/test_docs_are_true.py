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


def test_checked_in_openapi_documents_match_the_routes():
    from aiflux_runner.openapi import rendered

    stale = [path.name for path, text in rendered().items()
             if not path.exists() or path.read_text() != text]
    assert stale == [], "routes changed: run `make openapi`"
