"""Each service's OpenAPI document, checked in under ``docs/openapi/<service>.json``.

``python -m aiflux_runner.openapi --write`` regenerates them (``make openapi``); a test fails
when a route changes and its document does not. Every running service also serves its own at
``/openapi.json`` (and ``/docs``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiflux_kit.app import create_app
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.service import Platform
from fastapi import FastAPI

from .services import SERVICES, builder, settings_class

OPENAPI_DIR = Path(__file__).resolve().parents[4] / "docs" / "openapi"


def document(service: str) -> dict[str, Any]:
    """The OpenAPI document of ``service`` as its own process serves it."""
    return service_app(service).openapi()


def service_app(service: str) -> FastAPI:
    """``service``'s app as its own process builds it, nothing started (for its documents and
    for tests that inspect its routes)."""
    platform = Platform(
        mode="distributed",
        broker=LocalBroker("postgresql+psycopg:///unused"),
        limiter=RateLimiter.from_url(None),
        data_dir=Path(tempfile.gettempdir()),
    )
    unit = builder(service)(platform, settings_class(service)(env="test"))
    return create_app(Runtime(platform, [unit], Parts(False, False, False, False)), title=f"AIFLUX {service}")


def rendered() -> dict[Path, str]:
    """Every document and its text."""
    return {
        OPENAPI_DIR / f"{service}.json": json.dumps(document(service), indent=2, sort_keys=True) + "\n"
        for service in SERVICES
    }


def main() -> None:
    """Command line: ``--write`` or ``--check``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="regenerate the files")
    parser.add_argument("--check", action="store_true", help="the default: exit 1 when stale")
    args = parser.parse_args()
    files = rendered()
    if args.write:
        OPENAPI_DIR.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            path.write_text(text)
        return
    stale = [p.name for p, text in files.items() if not p.exists() or p.read_text() != text]
    if stale:
        print(f"stale OpenAPI documents: {', '.join(stale)}: run `make openapi`", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
