"""``aiflux``: run the system, or one part of one service.

    aiflux embedded                      all services in one process (make run)
    aiflux api <service>                 the HTTP API of one service
    aiflux worker <service>              its event consumers, workers and sweeps
    aiflux relay <service>               its outbox relay
    aiflux web                           the web client (/) and ops console (/ops/) (WEB_* settings)
    aiflux migrate <service>             upgrade its database
    aiflux sweep <service> [--rule R]    run its sweeps once
    aiflux replay <service> <consumer>   move parked messages back to their queue
    aiflux check-outbox <service>        exit 1 when the outbox backlog is too old
    aiflux check-parking <service>       exit 1 when messages are parked
    aiflux admin-grant <username>        make a user an operator (admin role)

The operator commands act on the distributed install of the settings (environment, .env), or
with --data-dir on the embedded install in that directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
from pathlib import Path

from . import operations
from .operations import OperatorError, data_dir_option
from .services import SERVICES, check_service

# Imports of the servers, the kit's runtime and the services happen inside the commands that
# need them: `aiflux --help` and a mistyped command answer at once.
SERVING = ("embedded", "api", "worker", "relay", "web")
PART_FLAGS = {  # consumers, relay, sweeps, workers (aiflux_kit.runtime.Parts)
    "api": (False, False, False, False),
    "worker": (True, False, True, True),
    "relay": (False, True, False, False),
}


def _embedded(args: argparse.Namespace) -> None:
    import uvicorn
    from uvicorn.loops.auto import auto_loop_factory

    from .embedded import build_embedded, start_postgres
    from .servers import ExitingServer

    data_dir = Path(os.environ.get("AIFLUX_DATA_DIR", ".data")).resolve()
    port = int(os.environ.get("PORT", args.port))
    print(f"Starting AIFLUX (embedded) with data in {data_dir} ...", flush=True)
    url_template = start_postgres(data_dir)
    app = build_embedded(data_dir, port, url_template)
    server = ExitingServer(
        uvicorn.Config(app, host=args.host, port=port, log_config=None, timeout_graceful_shutdown=30)
    )

    async def serve() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers only a flag
            await asyncio.sleep(0.1)
        if server.started:
            print(
                f"\nAIFLUX is running at http://localhost:{port}  (API docs: "
                f"http://localhost:{port}/docs, mail: {data_dir / 'mail'})\n",
                flush=True,
            )
        await serving

    # The loop uvicorn.run picks for the distributed services (uvloop where installed).
    with asyncio.Runner(loop_factory=auto_loop_factory()) as runner:
        runner.run(serve())


def _serve(args: argparse.Namespace) -> None:
    from dataclasses import replace

    import uvicorn
    from aiflux_kit.runtime import Parts

    from .distributed import service_app

    parts = Parts(*PART_FLAGS[args.command])
    if getattr(args, "no_sweeps", False):
        parts = replace(parts, sweeps=False)
    routes = args.command == "api"

    app = service_app(check_service(args.service), parts, routes=routes)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, timeout_graceful_shutdown=30)


def _web(args: argparse.Namespace) -> None:
    import uvicorn
    from aiflux_web.app import create_web_app
    from aiflux_web.settings import WebSettings

    app = create_web_app(WebSettings())
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def _migrate(args: argparse.Namespace) -> None:
    from aiflux_kit.db import run_migrations

    from .distributed import build_unit

    _, unit = build_unit(check_service(args.service))
    run_migrations(unit.migrations, unit.settings.database_url)
    print(f"{args.service}: database is at the newest revision")


def _embedded_database(data_dir: Path, service: str) -> str:
    """The database URL of ``service`` in the embedded install under ``data_dir`` (started if
    it is not running), for service commands such as ``admin-grant --data-dir``."""
    from .embedded import start_postgres
    from .operations import open_install

    return start_postgres(open_install(data_dir)).format(db=f"aiflux_{service}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiflux", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("embedded", help="all services in one process")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_embedded)
    for name, port in (("api", 8000), ("worker", 8081), ("relay", 8081)):
        p = sub.add_parser(name, help=f"the {name} process of one service")
        p.add_argument("service", choices=SERVICES)
        p.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all
        p.add_argument("--port", "--health-port", dest="port", type=int, default=port)
        if name == "worker":
            p.add_argument(
                "--no-sweeps",
                action="store_true",
                help="leave the sweeps to an external scheduler (Kubernetes CronJobs)",
            )
        p.set_defaults(func=_serve)
    p = sub.add_parser("web", help="the web client and ops console (no database, no bus)")
    p.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=_web)
    p = sub.add_parser("migrate", help="upgrade a service database")
    p.add_argument("service", choices=SERVICES)
    p.set_defaults(func=_migrate)
    p = sub.add_parser("sweep", help="run a service's sweeps once")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--rule", help="one sweep by name (default: all of the service's)")
    p = sub.add_parser("replay", help="move parked messages back to their queue")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("consumer")
    p.add_argument("--limit", type=int)
    p = sub.add_parser("check-outbox", help="exit 1 when the outbox backlog is too old")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--max-age", type=float, default=300)
    p = sub.add_parser("check-parking", help="exit 1 when messages are parked")
    p.add_argument("service", choices=SERVICES)
    for name in ("sweep", "replay", "check-outbox", "check-parking"):
        p = sub.choices[name]
        data_dir_option(p)
        p.set_defaults(func=operations.command(name))
    for service in SERVICES:
        try:
            commands = importlib.import_module(f"aiflux_{service}.commands")
        except ModuleNotFoundError:
            continue
        commands.add_commands(sub, _embedded_database)
    return parser


def _one_line(exc: Exception) -> str:
    """An error as one line: pydantic's list of errors joined, else the exception's text."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        with contextlib.suppress(Exception):
            return "; ".join(str(e.get("msg", e)) for e in errors())
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[-1]}" if text else type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``aiflux`` command."""
    args = _parser().parse_args(argv)
    from aiflux_kit.telemetry import setup_logging
    from aiflux_kit.tracing_export import configure_tracing

    setup_logging(os.environ.get("AIFLUX_LOG_LEVEL", "INFO"))
    configure_tracing(f"aiflux-{args.service}" if getattr(args, "service", None) else "aiflux")
    try:
        args.func(args)
    except OperatorError as exc:
        print(f"aiflux {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(exc.code) from None
    except Exception as exc:
        if args.command in SERVING:  # a server that cannot start shows the whole story
            raise
        print(f"aiflux {args.command}: {_one_line(exc)}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
