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
    from aiflux_web.settings import WebSettings

    for name in WebSettings.model_fields:
        assert f"\nWEB_{name.upper()}=" in text, name


def test_checked_in_openapi_documents_match_the_routes():
    from aiflux_runner.openapi import rendered

    stale = [path.name for path, text in rendered().items() if not path.exists() or path.read_text() != text]
    assert stale == [], "routes changed: run `make openapi`"


def test_every_operation_documents_a_typed_answer_and_its_problems():
    """A client can be generated: each 2xx body has a schema, each problem the shared one."""
    import json

    from aiflux_runner.openapi import OPENAPI_DIR

    untyped, problems = [], []
    for path in sorted(OPENAPI_DIR.glob("*.json")):
        for route, operations in json.loads(path.read_text())["paths"].items():
            for method, operation in operations.items():
                where = f"{path.stem}: {method.upper()} {route}"
                for status, answer in operation["responses"].items():
                    content = answer.get("content", {})
                    if status.startswith("2") and status != "204":
                        if not content or any(not v.get("schema") for v in content.values()):
                            untyped.append(f"{where} {status}")
                    elif status[0] in "45" and not _documents_problem(status, content):
                        problems.append(f"{where} {status}")
    assert untyped == [], untyped
    assert problems == [], problems


def _documents_problem(status: str, content: dict[str, object]) -> bool:
    # Client errors are problems; a server error is a problem or, for /readyz, its checks.
    return "application/problem+json" in content if status[0] == "4" else bool(content)
