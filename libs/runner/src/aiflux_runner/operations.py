"""The operator commands (``aiflux sweep|replay|check-outbox|check-parking``), run against the
install they name: a distributed one from the service's settings (environment, ``.env``), or an
embedded one with ``--data-dir``. Each first proves it reaches that install's database and bus,
so a command that reaches nothing fails in one line instead of printing success."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .services import check_service

if TYPE_CHECKING:
    from aiflux_kit.runtime import Runtime
    from aiflux_kit.service import ServiceUnit

Action = Callable[["Runtime", "ServiceUnit"], Awaitable[int]]


class OperatorError(Exception):
    """A command cannot do what it was asked; the message is its one line of output."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def data_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``: act on the embedded install there instead of the distributed one."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="an embedded install's data directory "
        "(`make run`); default: the distributed install of the settings",
    )


def _runtime(service: str, data_dir: Path | None) -> Runtime:
    from aiflux_kit.runtime import Parts, Runtime

    if data_dir is None:
        from .distributed import build_unit

        platform, unit = build_unit(check_service(service))
    else:
        from .embedded import embedded_unit

        platform, unit = embedded_unit(open_install(data_dir), check_service(service))
    return Runtime(platform, [unit], Parts(False, False, False, False))


def open_install(data_dir: Path) -> Path:
    """``data_dir`` resolved, if it holds an embedded install (never creates one)."""
    data_dir = data_dir.resolve()
    if not (data_dir / "postgres" / "PG_VERSION").is_file():
        raise OperatorError(f"no embedded install in {data_dir} (`make run` creates one)")
    return data_dir


async def _reach_database(unit: ServiceUnit) -> None:
    import psycopg
    from aiflux_kit.db import psycopg_conninfo

    try:
        conn = await psycopg.AsyncConnection.connect(
            psycopg_conninfo(unit.settings.database_url), connect_timeout=10
        )
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise OperatorError(f"cannot reach the {unit.name} database: {reason}") from None
    await conn.close()


def run_action(args: argparse.Namespace, action: Action) -> int:
    """Run ``action`` on the service's unit, connected to the install's database and bus."""

    async def run() -> int:
        runtime = _runtime(args.service, getattr(args, "data_dir", None))
        unit = runtime.units[args.service]
        await _reach_database(unit)
        try:
            await runtime.platform.broker.connect()
        except Exception as exc:  # every broker failure is one line
            raise OperatorError(f"cannot reach the message bus: {type(exc).__name__}") from None
        try:
            return await action(runtime, unit)
        finally:
            await runtime.stop(drain_timeout=1)

    return asyncio.run(run())


async def sweep(args: argparse.Namespace, runtime: Runtime, unit: ServiceUnit) -> int:
    """Run the service's sweeps (or ``--rule``) once; 1 when one failed."""
    known = [s.name for s in unit.sweeps]
    names = [args.rule] if args.rule else known
    if args.rule and args.rule not in known:
        raise OperatorError(
            f"unknown sweep rule {args.rule!r} in {unit.name}; valid rules: {', '.join(known)}", 2
        )
    failed = 0
    for name in names:
        result = await runtime.run_sweep(unit.name, name)
        print(f"{unit.name}.{name}: {result.counts}" + (f" FAILED: {result.error}" if result.error else ""))
        failed += result.error is not None
    return 1 if failed else 0


async def replay(args: argparse.Namespace, runtime: Runtime, unit: ServiceUnit) -> int:
    """Move the consumer's parked messages back to its queue."""
    consumers = [sub.name for sub in unit.subscriptions]
    if args.consumer not in consumers:
        raise OperatorError(
            f"no consumer {args.consumer!r} in {unit.name}; consumers: {', '.join(consumers)}", 2
        )
    sub = unit.subscriptions[consumers.index(args.consumer)]
    spec = runtime.platform.queue_spec(unit.name, sub)
    moved = await runtime.platform.broker.replay_parked(spec, args.limit)
    print(f"replayed {moved} message(s) to {spec.name}")
    return 0


async def check_outbox(args: argparse.Namespace, runtime: Runtime, unit: ServiceUnit) -> int:
    """1 when the oldest unsent outbox row is older than ``--max-age``."""
    count, age = await runtime.relays[unit.name].backlog()
    print(f"{unit.name}: {count} unsent, oldest {age:.0f}s")
    return 1 if count and age > args.max_age else 0


async def check_parking(args: argparse.Namespace, runtime: Runtime, unit: ServiceUnit) -> int:
    """1 when any consumer of the service has parked messages."""
    total = 0
    for sub in unit.subscriptions:
        spec = runtime.platform.queue_spec(unit.name, sub)
        parked = await runtime.platform.broker.parked_count(spec)
        total += parked
        if parked:
            print(f"{spec.parking}: {parked} parked")
    print(f"{unit.name}: {total} parked message(s)")
    return 1 if total else 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Any, Any], Awaitable[int]]] = {
    "sweep": sweep,
    "replay": replay,
    "check-outbox": check_outbox,
    "check-parking": check_parking,
}


def command(name: str) -> Callable[[argparse.Namespace], None]:
    """The ``func`` of the subcommand ``name``: exits with the action's code."""

    def run(args: argparse.Namespace) -> None:
        raise SystemExit(run_action(args, lambda runtime, unit: COMMANDS[name](args, runtime, unit)))

    return run
