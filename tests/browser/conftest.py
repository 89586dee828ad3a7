"""Browser tests of the web client and the ops console, in a real Chromium.

Debian's Chromium (``apt-get install chromium``; ``make test`` and ``.ci/run`` install it when
run as root) driven by Playwright for Python with ``executable_path`` (Playwright's own browser
download is not reachable here). Without Chromium these tests skip on a developer's machine and
fail under ``CI=true``.

Each test gets the whole system in one process (``stack_factory``: every service, the web
client mounted at ``/``, the in-process bus, the local AI provider, the simulated checkout),
a fresh browser context that may reach only that system (every other request is aborted and
recorded), and ``shot(name)`` saving a screenshot under ``.artefacts/screenshots/``
(``AIFLUX_ARTEFACTS`` moves it). At the end of a test, a page that asked for anything outside
the system, or that the browser refused under the Content-Security-Policy, fails it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiflux_runner.testing import Stack
from playwright.async_api import BrowserContext, ConsoleMessage, Page, Route, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(os.environ.get("AIFLUX_ARTEFACTS", ".artefacts"))
OVERRIDES: dict[str, dict[str, Any]] = {
    "billing": {"checkout_backend": "simulated"},
    "generation": {"offline": True, "local_delay_s": 0.5},
    "privacy": {"export_poll_interval_s": 0.3},
}


def require_chromium() -> None:
    """Skip (developer machine) or fail (CI) without Debian's Chromium."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(f"{message}; install it to run the browser tests")


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium, for a test that launches its own browser (skips or fails without it)."""
    require_chromium()
    return CHROMIUM


@dataclass
class Browsing:
    """A running system and a browser on it."""

    stack: Stack
    context: BrowserContext
    page: Page
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    @property
    def data_dir(self) -> Path:
        return self.stack.data_dir

    async def shot(self, name: str, page: Page | None = None) -> Path:
        """Save a full-page screenshot ``<artefacts>/screenshots/<name>.png``."""
        target = ARTEFACTS / "screenshots" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        await (page or self.page).screenshot(path=str(target), full_page=True)
        self.shots.append(target)
        return target

    async def new_page(self) -> Page:
        """Another tab of the same browser context (same cookies)."""
        page = await self.context.new_page()
        self._watch(page)
        return page

    def _watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.console_errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))


@pytest.fixture
def browsing(stack_factory: Any) -> Callable[..., Any]:
    """``async with browsing(overrides=...) as b:`` — the system, a browser context and a page."""
    import contextlib

    @contextlib.asynccontextmanager
    async def factory(overrides: dict[str, dict[str, Any]] | None = None) -> AsyncIterator[Browsing]:
        require_chromium()
        merged = {service: {**values} for service, values in OVERRIDES.items()}
        for service, values in (overrides or {}).items():
            merged.setdefault(service, {}).update(values)
        async with stack_factory(overrides=merged) as stack, async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                # Nothing but the system resolves: a CDN or font host would fail and be listed.
                args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
            )
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            browsing = Browsing(stack, context, await context.new_page())
            browsing._watch(browsing.page)

            async def only_the_system(route: Route) -> None:
                if route.request.url.startswith(stack.base_url + "/") or route.request.url.startswith(
                    ("data:", "blob:")
                ):
                    await route.continue_()
                else:
                    browsing.foreign.append(route.request.url)
                    await route.abort("blockedbyclient")

            await context.route("**/*", only_the_system)
            try:
                yield browsing
            finally:
                await context.close()
                await browser.close()
            assert browsing.foreign == [], f"pages reached outside the system: {browsing.foreign}"
            violations = [e for e in browsing.console_errors if "Content Security Policy" in e]
            assert violations == [], f"the browser refused content under the CSP: {violations}"

    return factory
