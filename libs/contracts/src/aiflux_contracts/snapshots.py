"""JSON Schema snapshots of every event and the AsyncAPI document of the bus.

``python -m aiflux_contracts.snapshots --write`` regenerates them (``make contracts``);
``--check`` (the default) exits 1 when a checked-in file differs from what the models say.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .base import Envelope
from .registry import CATALOG

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas"
ASYNCAPI = ROOT / "asyncapi.json"


def event_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each event payload, by routing key."""
    return {key: cls.model_json_schema() for key, cls in CATALOG.items()}


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document describing every event on the ``aiflux.events`` exchange."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for key, cls in CATALOG.items():
        name = key.replace(".", "_")
        messages[name] = {
            "name": cls.event_type(),
            "title": f"{cls.event_type()} v{cls.event_version} ({cls.producer})",
            "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
            "contentType": "application/json",
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {"type": "object", "properties": {"payload": cls.model_json_schema()}},
                ]
            },
        }
        channels[name] = {
            "address": key,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {"name": "aiflux.events", "type": "topic", "durable": True},
                }
            },
        }
        operations[f"publish_{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": f"Published by {cls.producer} through its transactional outbox.",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "AIFLUX events",
            "version": "1.0.0",
            "description": "Every event on the aiflux.events topic exchange. Routing keys "
            "are <service>.<event>.v<N>; a breaking change is a new version.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"Envelope": Envelope.model_json_schema()}},
    }


def rendered() -> dict[Path, str]:
    """Every generated file and its content."""
    files = {
        SCHEMA_DIR / f"{key}.json": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for key, schema in event_schemas().items()
    }
    files[SCHEMA_DIR / "envelope.json"] = (
        json.dumps(Envelope.model_json_schema(), indent=2, sort_keys=True) + "\n"
    )
    files[ASYNCAPI] = json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n"
    return files


def stale() -> list[str]:
    """Generated files that are missing, differ, or no longer belong to an event."""
    files = rendered()
    problems = [
        str(p.relative_to(ROOT)) for p, text in files.items() if not p.exists() or p.read_text() != text
    ]
    extra = set(SCHEMA_DIR.glob("*.json")) - set(files) if SCHEMA_DIR.exists() else set()
    return problems + [f"{p.relative_to(ROOT)} (no such event)" for p in sorted(extra)]


def write() -> None:
    """Regenerate every snapshot and the AsyncAPI document."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    files = rendered()
    for path in set(SCHEMA_DIR.glob("*.json")) - set(files):
        path.unlink()
    for path, text in files.items():
        path.write_text(text)


def main() -> None:
    """Command line: ``--write`` or ``--check``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="regenerate the files")
    parser.add_argument("--check", action="store_true", help="the default: exit 1 when stale")
    args = parser.parse_args()
    if args.write:
        write()
        return
    problems = stale()
    for problem in problems:
        print(f"stale: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
