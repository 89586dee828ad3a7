"""The pages' API layer stays true to the OpenAPI documents.

``operations.js`` is generated from ``docs/openapi/*.json``; every operation key a page names
(``api("POST /v1/auth/login", ...)``, ``url(...)``, ``upload(...)``) must be in it. A route
that is renamed, removed or changes method fails here, before a user meets it.
"""

from __future__ import annotations

import re

from aiflux_web import apigen

ASSETS = apigen.TARGET.parent
# A quoted "METHOD /v1/..." literal anywhere in the pages' modules.
OPERATION_KEY = re.compile(r"""["'`]((?:GET|POST|PUT|PATCH|DELETE) /v1/[^"'`\s]*)["'`]""")


def test_the_generated_table_is_current() -> None:
    assert apigen.main([]) == 0, "static/assets/operations.js is stale: run `make openapi`"


def test_every_operation_the_pages_call_is_documented() -> None:
    table = apigen.operations()
    used: dict[str, set[str]] = {}
    for module in ASSETS.rglob("*.js"):
        if module == apigen.TARGET:
            continue
        for key in OPERATION_KEY.findall(module.read_text()):
            used.setdefault(key, set()).add(str(module.relative_to(ASSETS)))
    unknown = {key: sorted(where) for key, where in used.items() if key not in table}
    assert not unknown, f"pages call operations that docs/openapi does not have: {unknown}"


def test_internal_routes_are_not_in_the_table() -> None:
    assert all(
        " /internal/" not in key and key.split(" ", 1)[1].startswith("/v1/") for key in apigen.operations()
    )
