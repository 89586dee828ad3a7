"""Policy data served by the API: retention rules (§5), processors (§6), the export manifest."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from aiflux_kit.http import processor_registry

RIGHTS = [
    {"right": "access", "article": "Art. 15"},
    {"right": "rectification", "article": "Art. 16"},
    {"right": "erasure", "article": "Art. 17"},
    {"right": "restriction", "article": "Art. 18"},
    {"right": "portability", "article": "Art. 20"},
    {"right": "objection", "article": "Art. 21"},
    {"right": "withdrawal of consent", "article": "Art. 7(3)"},
    {"right": "complaint to the Garante per la Protezione dei Dati Personali", "article": "Art. 77"},
]

PURPOSES = [
    {"purpose": "Service delivery", "legal_basis": "Art. 6(1)(b)"},
    {"purpose": "Payments", "legal_basis": "Art. 6(1)(b)"},
    {"purpose": "Security and abuse prevention", "legal_basis": "Art. 6(1)(f)"},
    {"purpose": "Service communications", "legal_basis": "Art. 6(1)(b)"},
    {"purpose": "Marketing (only with consent)", "legal_basis": "Art. 6(1)(a)"},
    {"purpose": "Legal and tax obligations", "legal_basis": "Art. 6(1)(c)"},
]

SOURCES = {
    "identity": "provided by you at registration and collected when you sign in",
    "billing": "created by your purchases through Stripe",
    "generation": "your prompts and the results the AI providers made for you",
    "storage": "files you uploaded and outputs generated for you",
    "privacy": "your consents and your data-subject requests",
}


@cache
def retention_rules() -> list[dict[str, Any]]:
    """The retention rules of §5, each with owner service, period, trigger, action and sweep."""
    raw = resources.files("aiflux_privacy.domain.data").joinpath("retention.json").read_text()
    rules: list[dict[str, Any]] = json.loads(raw)["rules"]
    return rules


def explain_retained(item: dict[str, Any], service: str) -> dict[str, Any]:
    """A retained item of a receipt as the user is told it: the legal basis, period and
    description come from the retention rule the receipt names (one source, §5); an item no
    rule covers keeps the basis its service declared."""
    rule = next((r for r in retention_rules() if r["id"] == item.get("retention_rule")), None)
    explained = dict(item, service=service)
    if rule is not None:
        explained.update(
            legal_basis=rule["legal_basis"], period=rule["period_text"], description=rule["category"]
        )
    return explained


def processors() -> list[dict[str, Any]]:
    """The processor registry of §6 as served to clients (hosts are internal detail)."""
    return [
        {
            "id": p.id,
            "name": p.name,
            "country": p.country,
            "purpose": p.purpose,
            "data_categories": list(p.data_categories),
            "transfer_basis": p.transfer_basis,
        }
        for p in processor_registry().values()
    ]


def export_manifest(
    request_id: str, request_type: str, created_at: str, parts: dict[str, list[str]], files: list[str]
) -> dict[str, Any]:
    """The manifest of an export archive: what Art. 15(1) GDPR says the subject must be told."""
    return {
        "request_id": request_id,
        "type": request_type,
        "created_at": created_at,
        "controller": "ForgeAISolution",
        "purposes": PURPOSES,
        "categories": [
            {"service": s, "source": SOURCES[s], "files": names} for s, names in sorted(parts.items())
        ],
        "recipients": processors(),
        "retention": [{"category": r["category"], "period": r["period_text"]} for r in retention_rules()],
        "user_files": files,
        "rights": RIGHTS,
        "format": "JSON (UTF-8) per service under data/; your files under files/",
    }
