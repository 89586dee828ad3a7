"""``aiflux``: run the system, or one part of one service.

    aiflux embedded                      all services in one process (make run)
    aiflux api <service>                 the HTTP API of one service
    aiflux worker <service>              its event consumers, workers and sweeps
    aiflux relay <service>               its outbox relay
    aiflux migrate <service>             upgrade its database
    aiflux sweep <service> [--rule R]    run its sweeps once
    aiflux replay <service> <consumer>   move parked messages back to their queue
    aiflux check-outbox <service>        exit 1 when the outbox backlog is too old
    aiflux check-parking <service>       exit 1 when messages are parked
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from pathlib import Path

import uvicorn
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.telemetry import setup_logging
from aiflux_kit.tracing_export import configure_tracing

from .services import SERVICES, check_service


def _embedded(args: argparse.Namespace) -> None:
    from .embedded import build_embedded, start_postgres

    data_dir = Path(os.environ.get("AIFLUX_DATA_DIR", ".data")).resolve()
    port = int(os.environ.get("PORT", args.port))
    print(f"Starting AIFLUX (embedded) with data in {data_dir} ...", flush=True)
    url_template = start_postgres(data_dir)
    app = build_embedded(data_dir, port, url_template)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=port, log_config=None,
                                           timeout_graceful_shutdown=30))

    async def serve() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers only a flag
            await asyncio.sleep(0.1)
        if server.started:
            print(f"\nAIFLUX is running at http://localhost:{port}  (API docs: "
                  f"http://localhost:{port}/docs, mail: {data_dir / 'mail'})\n", flush=True)
        await serving

    asyncio.run(serve())


def _serve(args: argparse.Namespace, parts: Parts, *, routes: bool) -> None:
    from dataclasses import replace

    from .distributed import service_app

    if getattr(args, "no_sweeps", False):
        parts = replace(parts, sweeps=False)

    app = service_app(check_service(args.service), parts, routes=routes)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None,
                timeout_graceful_shutdown=30)


def _runtime(service: str) -> Runtime:
    from .distributed import build_unit

    platform, unit = build_unit(check_service(service))
    return Runtime(platform, [unit], Parts(False, False, False, False))


def _migrate(args: argparse.Namespace) -> None:
    from aiflux_kit.db import run_migrations

    from .distributed import build_unit

    _, unit = build_unit(check_service(args.service))
    run_migrations(unit.migrations, unit.settings.database_url)
    print(f"{args.service}: database is at the newest revision")


async def _with_runtime(service: str, action):
    runtime = _runtime(service)
    await runtime.platform.broker.connect()
    try:
        return await action(runtime, runtime.units[service])
    finally:
        await runtime.stop(drain_timeout=1)


def _sweep(args: argparse.Namespace) -> None:
    async def action(runtime: Runtime, unit) -> int:
        names = [args.rule] if args.rule else [s.name for s in unit.sweeps]
        unknown = set(names) - {s.name for s in unit.sweeps}
        if unknown:
            print(f"unknown sweep(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        failed = 0
        for name in names:
            result = await runtime.run_sweep(unit.name, name)
            print(f"{unit.name}.{name}: {result.counts} {result.error or ''}")
            failed += result.error is not None
        return 1 if failed else 0

    raise SystemExit(asyncio.run(_with_runtime(args.service, action)))


def _replay(args: argparse.Namespace) -> None:
    async def action(runtime: Runtime, unit) -> int:
        for sub in unit.subscriptions:
            if sub.name == args.consumer:
                spec = runtime.platform.queue_spec(unit.name, sub)
                moved = await runtime.platform.broker.replay_parked(spec, args.limit)
                print(f"replayed {moved} message(s) to {spec.name}")
                return 0
        print(f"no consumer {args.consumer!r} in {unit.name}", file=sys.stderr)
        return 2

    raise SystemExit(asyncio.run(_with_runtime(args.service, action)))


def _check_outbox(args: argparse.Namespace) -> None:
    async def action(runtime: Runtime, unit) -> int:
        count, age = await runtime.relays[unit.name].backlog()
        print(f"{unit.name}: {count} unsent, oldest {age:.0f}s")
        return 1 if count and age > args.max_age else 0

    raise SystemExit(asyncio.run(_with_runtime(args.service, action)))


def _check_parking(args: argparse.Namespace) -> None:
    async def action(runtime: Runtime, unit) -> int:
        total = 0
        for sub in unit.subscriptions:
            spec = runtime.platform.queue_spec(unit.name, sub)
            parked = await runtime.platform.broker.parked_count(spec)
            total += parked
            if parked:
                print(f"{spec.parking}: {parked} parked")
        return 1 if total else 0

    raise SystemExit(asyncio.run(_with_runtime(args.service, action)))


def _embedded_database(data_dir: Path, service: str) -> str:
    """The database URL of ``service`` in the embedded install under ``data_dir`` (started if
    it is not running), for service commands such as ``admin-grant --data-dir``."""
    from .embedded import start_postgres

    return start_postgres(data_dir).format(db=f"aiflux_{service}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiflux", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("embedded", help="all services in one process")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_embedded)
    for name, parts, routes, port in (
        ("api", Parts(False, False, False, False), True, 8000),
        ("worker", Parts(True, False, True, True), False, 8081),
        ("relay", Parts(False, True, False, False), False, 8081),
    ):
        p = sub.add_parser(name, help=f"the {name} process of one service")
        p.add_argument("service", choices=SERVICES)
        p.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all
        p.add_argument("--port", "--health-port", dest="port", type=int, default=port)
        if name == "worker":
            p.add_argument("--no-sweeps", action="store_true",
                           help="leave the sweeps to an external scheduler (Kubernetes CronJobs)")
        p.set_defaults(func=lambda a, parts=parts, routes=routes: _serve(a, parts, routes=routes))
    p = sub.add_parser("migrate", help="upgrade a service database")
    p.add_argument("service", choices=SERVICES)
    p.set_defaults(func=_migrate)
    p = sub.add_parser("sweep", help="run a service's sweeps once")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--rule")
    p.set_defaults(func=_sweep)
    p = sub.add_parser("replay", help="move parked messages back to their queue")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("consumer")
    p.add_argument("--limit", type=int)
    p.set_defaults(func=_replay)
    p = sub.add_parser("check-outbox", help="exit 1 when the outbox backlog is too old")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--max-age", type=float, default=300)
    p.set_defaults(func=_check_outbox)
    p = sub.add_parser("check-parking", help="exit 1 when messages are parked")
    p.add_argument("service", choices=SERVICES)
    p.set_defaults(func=_check_parking)
    for service in SERVICES:
        try:
            commands = importlib.import_module(f"aiflux_{service}.commands")
        except ModuleNotFoundError:
            continue
        commands.add_commands(sub, _embedded_database)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``aiflux`` command."""
    args = _parser().parse_args(argv)
    setup_logging(os.environ.get("AIFLUX_LOG_LEVEL", "INFO"))
    configure_tracing(f"aiflux-{args.service}" if getattr(args, "service", None) else "aiflux")
    args.func(args)


if __name__ == "__main__":
    main()
