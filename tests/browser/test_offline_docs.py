"""/docs and /redoc render with no network: their assets come from the app, never a CDN.

A real Chromium (Debian's, driven by Playwright) opens both pages of the embedded app (the
kit's ``create_app`` serving all five services). Every request outside the app's origin is
aborted and recorded, and host names other than the app's do not resolve, so a page that still
reached for a CDN or a font host would render blank here and the test lists what it asked for.
A visitor's browser must not tell a third party that they read the docs.

Chromium comes from ``apt-get install chromium`` (``make test`` installs it when run as root);
the ``chromium`` fixture of this folder's conftest skips the test without it on a developer's
machine and fails it under ``CI=true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Route, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

# Section ids ReDoc gives each rendered operation; Swagger UI renders one .opblock per operation.
RENDERED_OPERATION = {"/docs": ".opblock", "/redoc": "[data-section-id^='operation/']"}


async def _rendered_operations(browser: Browser, origin: str, path: str) -> tuple[int, list[str]]:
    """How many operations ``path`` renders, and the foreign requests it attempted."""
    foreign: list[str] = []

    async def only_the_app(route: Route) -> None:
        if route.request.url.startswith(origin + "/"):
            await route.continue_()
        else:
            foreign.append(route.request.url)
            await route.abort("blockedbyclient")

    context = await browser.new_context()
    try:
        await context.route("**/*", only_the_app)
        page: Page = await context.new_page()
        await page.goto(origin + path, wait_until="networkidle")
        operations = page.locator(RENDERED_OPERATION[path])
        try:
            await operations.first.wait_for(state="visible", timeout=20_000)
        except PlaywrightTimeout:
            return 0, foreign  # a blank page: the assertions say why
        return await operations.count(), foreign
    finally:
        await context.close()


async def test_api_docs_render_with_no_network(stack_factory: Any, chromium: Path) -> None:
    results: dict[str, tuple[int, list[str]]] = {}
    async with stack_factory() as stack, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium),
            # Nothing but the app resolves: the page has no network beyond it.
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        try:
            for path in RENDERED_OPERATION:
                results[path] = await _rendered_operations(browser, stack.base_url, path)
        finally:
            await browser.close()
    for path, (count, foreign) in results.items():
        assert foreign == [], f"{path} reached outside the app: {foreign}"
        assert count > 50, f"{path} rendered {count} operations"
