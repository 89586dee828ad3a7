"""The privacy policy as a server-rendered page: readable with JavaScript off (issue 14).

``GET /privacy/policy`` renders the version in force and ``GET /privacy/policy/versions`` the
list of published versions, both from the privacy service's public API (``/v1/privacy/policy``,
``/v1/privacy/policy/versions``), exactly as any client reads them. Every value from the API is
HTML-escaped. When the privacy service cannot answer, the page says so with a 503.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from html import escape
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .proxy import upstream_client
from .settings import WebSettings

router = APIRouter()

HEADING = re.compile(r"^\d+(\.\d+)*\.\s+\S")
PAGE_METHODS = ["GET", "HEAD"]


class Unavailable(Exception):
    """The privacy service did not give an answer we can render."""


@router.api_route("/privacy/policy", methods=PAGE_METHODS, include_in_schema=False)
async def policy_page(request: Request) -> HTMLResponse:
    return await _rendered(request, "/v1/privacy/policy", _policy)


@router.api_route("/privacy/policy/versions", methods=PAGE_METHODS, include_in_schema=False)
async def versions_page(request: Request) -> HTMLResponse:
    return await _rendered(request, "/v1/privacy/policy/versions", _versions)


async def _rendered(
    request: Request, path: str, render: Callable[[Mapping[str, Any] | None], HTMLResponse]
) -> HTMLResponse:
    """``render`` of what the privacy service answers at ``path``; the 503 page when it cannot."""
    try:
        body = await fetch_json(request, path)
    except Unavailable:
        return _unavailable()
    return render(body)


def _policy(policy: Mapping[str, Any] | None) -> HTMLResponse:
    if policy is None:
        return _page(
            "Privacy policy",
            "<p>No privacy policy has been published yet.</p>",
            status_code=404,
        )
    version = escape(str(policy.get("version", "")))
    meta = (
        f'<p class="meta">Version {version}, in force since {_date(policy.get("effective_at"))}. '
        '<a href="/privacy/policy/versions">All versions</a></p>'
    )
    return _page("Privacy policy", meta + render_text(str(policy.get("text", ""))))


def _versions(page: Mapping[str, Any] | None) -> HTMLResponse:
    items = (page or {}).get("items")
    rows = []
    for item in items if isinstance(items, list) else []:
        status = str(item.get("status", ""))
        version = escape(str(item.get("version", "")))
        if status == "in_force":
            version = f'<a href="/privacy/policy">{version}</a>'
        rows.append(
            "<tr>"
            f"<td>{version}</td>"
            f"<td>{escape(status.replace('_', ' '))}</td>"
            f"<td>{_date(item.get('effective_at'))}</td>"
            f"<td>{'yes' if item.get('substantial') else 'no'}</td>"
            "</tr>"
        )
    table = (
        "<table><caption>Published versions, newest first</caption>"
        '<thead><tr><th scope="col">Version</th><th scope="col">Status</th>'
        '<th scope="col">Effective</th><th scope="col">Substantial change</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No version has been published yet.</p>"
    )
    return _page(
        "Privacy policy versions", table + '<p><a href="/privacy/policy">The policy in force</a></p>'
    )


def render_text(text: str) -> str:
    """The policy's plain text as HTML: numbered lines become headings, ``- `` lines lists,
    the rest paragraphs; every piece escaped."""
    out: list[str] = []
    items: list[str] = []

    def close_list() -> None:
        if items:
            out.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            close_list()
        elif line.startswith(("- ", "• ")):
            items.append(escape(line[2:].strip()))
        else:
            close_list()
            tag = "h2" if HEADING.match(line) else "p"
            out.append(f"<{tag}>{escape(line)}</{tag}>")
    close_list()
    return "".join(out)


async def fetch_json(request: Request, path: str) -> Mapping[str, Any] | None:
    """The JSON object the privacy service answers at ``path``; ``None`` for a 404. Raises
    ``Unavailable`` when the service cannot be reached or answers anything else."""
    settings: WebSettings = request.app.state.settings
    try:
        answer = await upstream_client(request).get(
            settings.upstream("privacy") + path, headers={"accept": "application/json"}, timeout=10.0
        )
    except httpx.HTTPError as exc:
        raise Unavailable from exc
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise Unavailable
    try:
        body = answer.json()
    except ValueError as exc:
        raise Unavailable from exc
    if not isinstance(body, dict):
        raise Unavailable
    return body


def _date(value: Any) -> str:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return escape(str(value or ""))
    return f'<time datetime="{escape(when.isoformat())}">{when:%d %B %Y}</time>'


def _unavailable() -> HTMLResponse:
    return _page(
        "Privacy policy temporarily unavailable",
        "<p>The privacy service cannot be reached right now. Please try again in a few minutes.</p>",
        status_code=503,
        headers={"Retry-After": "30"},
    )


def _page(
    title: str, body: str, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    return HTMLResponse(
        _document(title, body),
        status_code=status_code,
        headers={"Cache-Control": "no-cache", **(headers or {})},
    )


NAV: Iterable[tuple[str, str]] = (
    ("/", "AIFLUX"),
    ("/privacy", "Privacy centre"),
    ("/privacy/policy", "Privacy policy"),
    ("/privacy/policy/versions", "Versions"),
)


def _document(title: str, body: str) -> str:
    nav = "".join(f'<li><a href="{href}">{escape(label)}</a></li>' for href, label in NAV)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} · AIFLUX</title>\n"
        '<link rel="stylesheet" href="/assets/style.css">\n</head>\n<body class="client">\n'
        '<a class="skip" href="#main">Skip to content</a>\n'
        f'<header id="top" class="site-header"><nav aria-label="Site"><ul>{nav}</ul></nav></header>\n'
        f'<main id="main" tabindex="-1" class="policy"><h1>{escape(title)}</h1>{body}</main>\n'
        '<footer id="bottom"><p><a href="/">Back to AIFLUX</a></p></footer>\n'
        "</body>\n</html>\n"
    )
