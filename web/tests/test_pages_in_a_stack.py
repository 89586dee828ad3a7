"""The web server in a real stack: the server-rendered privacy policy (no JavaScript) and the
ops console's relay with real sessions (admin, user, nobody)."""

from __future__ import annotations

import asyncio
import html
import re

import httpx
import pytest
from aiflux_identity.commands import set_admin
from aiflux_identity.testing import register_and_login
from aiflux_web.app import create_web_app
from aiflux_web.settings import WebSettings
from sqlalchemy import text

pytestmark = [pytest.mark.needs_postgres]


def text_of(page: str) -> str:
    """What a reader sees: the page without its tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


async def test_the_policy_is_readable_without_javascript(stack_factory):
    async with stack_factory(services=["privacy"]) as stack:
        in_force = (await stack.client.get("/v1/privacy/policy")).json()
        page = await stack.client.get("/privacy/policy")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "<script" not in page.text  # nothing to run: the text is in the HTML itself
        assert '<link rel="stylesheet" href="/assets/style.css">' in page.text
        assert "Data Controller" in page.text and in_force["version"] in page.text
        # Every line of the policy's text is on the page.
        for line in in_force["text"].splitlines():
            words = line.strip().removeprefix("- ")
            assert words in text_of(page.text), words
        assert "content-security-policy" in page.headers

        versions = await stack.client.get("/privacy/policy/versions")
        assert versions.status_code == 200
        assert in_force["version"] in versions.text and "in force" in versions.text

        # The client's pages of the privacy centre are still the shell.
        shell = await stack.client.get("/privacy/requests/abc")
        assert shell.status_code == 200 and "/assets/app/main.js" in shell.text


async def test_before_any_version_is_in_force_the_policy_page_says_so(stack_factory):
    async with stack_factory(services=["privacy"]) as stack:
        # Test setup: every published version takes effect only next year.
        async with stack.unit("privacy").database.transaction() as session:
            await session.execute(
                text("UPDATE policy_version SET effective_at = now() + interval '365 days'")
            )
        page = await stack.client.get("/privacy/policy")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "No privacy policy has been published yet." in page.text

        versions = await stack.client.get("/privacy/policy/versions")
        assert versions.status_code == 200
        assert "scheduled" in text_of(versions.text)
        assert '<td><a href="/privacy/policy">' not in versions.text  # no version is in force


async def test_the_policy_page_says_when_privacy_is_down() -> None:
    app = create_web_app(WebSettings(privacy_url="http://127.0.0.1:9"))  # nothing listens on 9
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as client:
        for path in ("/privacy/policy", "/privacy/policy/versions"):
            page = await client.get(path)
            assert page.status_code == 503, path
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["retry-after"] == "30"
            assert "cannot be reached" in page.text


async def test_the_ops_relay_carries_the_session_and_services_decide(stack_factory):
    async with stack_factory(services=["identity", "privacy"]) as stack:
        identity_db = stack.unit("identity").settings.database_url
        async with (
            httpx.AsyncClient(base_url=stack.base_url, timeout=30) as admin,
            httpx.AsyncClient(base_url=stack.base_url, timeout=30) as user,
            httpx.AsyncClient(base_url=stack.base_url, timeout=30) as nobody,
        ):
            signed_admin = await register_and_login(admin, stack.data_dir)
            assert await asyncio.to_thread(set_admin, identity_db, signed_admin.username, True)
            signed_user = await register_and_login(user, stack.data_dir)

            listed = await admin.get("/ops/api/privacy/requests")
            assert listed.status_code == 200, listed.text
            assert "items" in listed.json()

            refused = await user.get("/ops/api/privacy/requests")
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"

            anonymous = await nobody.get("/ops/api/privacy/requests")
            assert anonymous.status_code == 401
            assert anonymous.headers["content-type"] == "application/problem+json"

            # A state change through the relay needs the CSRF header, like any cookie call.
            body = {
                "version": "2026-12-24",
                "substantial": False,
                "text": "Privacy Policy\n1. Who we are\n<script>alert('x')</script> & \"quotes\" stay text.",
            }
            no_csrf = await admin.post("/ops/api/privacy/policy/versions", json=body)
            assert no_csrf.status_code == 403 and no_csrf.json()["type"].endswith("csrf-token-missing")
            by_user = await user.post(
                "/ops/api/privacy/policy/versions", json=body, headers=signed_user.headers
            )
            assert by_user.status_code == 403
            published = await admin.post(
                "/ops/api/privacy/policy/versions", json=body, headers=signed_admin.headers
            )
            assert published.status_code == 201, published.text

            # The page shows the new version's text escaped: markup in it is never markup.
            page = await nobody.get("/privacy/policy")
            assert page.status_code == 200 and "2026-12-24" in page.text
            assert "<script>" not in page.text
            assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page.text
            assert "<h2>1. Who we are</h2>" in page.text


async def test_the_relay_never_leaves_the_ops_api(stack_factory):
    async with stack_factory(services=["identity"]) as stack:
        for target in (
            "/ops/api/identity/..%2F..%2F..%2Finternal/identity/sessions/introspect",
            "/ops/api/identity/%2e%2e/%2e%2e/%2e%2e/internal/identity/sessions/introspect",
            "/ops/api/identity/users/..%2F..%2F..%2F..%2Fv1%2Faccount",
            "/ops/api/identity/..%5C..%5Cinternal",
            "/ops/api/identity//users",
        ):
            response = await stack.client.post(target)
            assert response.status_code == 404, (target, response.text)
            assert response.json()["type"] == "urn:aiflux:problem:not-found"
