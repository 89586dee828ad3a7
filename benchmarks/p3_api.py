"""P3: authenticated `GET /v1/generations` and `GET /v1/billing/balance`, req/s, through the real
services (a stack with identity, the real session cookie) against a bare FastAPI app running the
same SELECTs on the same databases. Both are served by uvicorn on loopback in this process and
driven by the same external client (`wrk`, else httpx in a subprocess).

"The same SELECTs" are recorded from the system itself: every SELECT a service engine runs while
it answers a request in the steady state (after a first one; the kit's own tables, pings and
background polling aside) is replayed by the bare app on an autocommit connection, so the limit
follows the system's queries as they change. A session lookup the system answers from its
cache is not replayed: the bare app has no session to check."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from aiflux_kit.testing import serve_app

from .harness import Bench, Row
from .load import drive
from .seed import User, seed_content, sign_up

# Concurrent requests: enough to keep both cores busy, few enough that neither side's pools
# exhaust the PostgreSQL connections everyone on this machine shares.
CONNECTIONS = 8

ENDPOINTS = {"generations": "/v1/generations", "balance": "/v1/billing/balance"}
# Queries of the machinery around a request (relays, inbox, guards, pings), not of the route.
MACHINERY = re.compile(
    r"\b(outbox|inbox|sweep_run|erasure_guard|erased_user|pg_\w+)\b|^SELECT 1$", re.IGNORECASE
)

Statement = tuple[str, str, Any]  # (service, SQL as the driver got it, its parameters)


@contextlib.contextmanager
def recording(engines: list[tuple[str, Any]]) -> Any:
    """Collect the SELECTs the given (service, engine) pairs run while the block runs."""
    from sqlalchemy import event

    seen: list[Statement] = []
    listeners = []
    for service, engine in engines:

        def listener(conn, cursor, statement, parameters, context, many, service=service):  # type: ignore[no-untyped-def]
            sql = statement.strip()
            if sql[:6].upper() in ("SELECT", "WITH  ") and not MACHINERY.search(sql):
                seen.append((service, sql, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", listener)
        listeners.append((engine.sync_engine, listener))
    try:
        yield seen
    finally:
        for target, listener in listeners:
            event.remove(target, "before_cursor_execute", listener)


RECORDINGS = 3


async def record_selects(running: Any, user: User, path: str) -> list[Statement]:
    """The SELECTs the system runs for one authenticated ``GET path`` in the steady state: after
    a first request (which fills caches, as every request but a few does under load), the
    statements seen in each of a few recorded requests (background tasks of the stack, such as
    workers polling, run beside a request now and then; they are not the route's)."""
    engines = [
        (name, engine)
        for name, unit in running.runtime.units.items()
        for engine in (unit.database.engine, unit.database.reader)
    ]
    (await running.client.get(path, headers={"Cookie": user.cookie})).raise_for_status()
    runs: list[list[Statement]] = []
    for _ in range(RECORDINGS):
        with recording(engines) as seen:
            response = await running.client.get(path, headers={"Cookie": user.cookie})
            response.raise_for_status()
        runs.append(list(seen))
    in_every = set.intersection(*({(service, sql) for service, sql, _ in run} for run in runs))
    return [s for s in runs[-1] if (s[0], s[1]) in in_every]


def bare_app(urls: dict[str, str], statements: dict[str, list[Statement]]) -> Any:
    """A FastAPI app whose routes only run the recorded SELECTs and return their rows."""
    from fastapi import FastAPI
    from fastapi.encoders import jsonable_encoder
    from sqlalchemy.ext.asyncio import create_async_engine

    # The kit's pool (up to 10 connections, kept), without its pre-ping and transactions.
    engines = {
        service: create_async_engine(url, pool_size=10, max_overflow=0, isolation_level="AUTOCOMMIT")
        for service, url in urls.items()
    }
    app = FastAPI()

    def route(selects: list[Statement]) -> Any:
        async def answer() -> Any:
            rows: list[Any] = []
            for service, sql, parameters in selects:
                async with engines[service].connect() as conn:
                    result = await conn.exec_driver_sql(sql, parameters)
                    rows.extend(dict(r._mapping) for r in result)
            return jsonable_encoder({"items": rows})

        return answer

    for name, selects in statements.items():
        app.get(f"/{name}")(route(selects))
    app.state.engines = engines
    return app


async def measure(bench: Bench) -> list[Row]:
    """Each endpoint through the stack and through the bare app, repeated."""
    seconds = bench.options.pick(1, 10)
    running = await bench.stack()
    user = await sign_up(running)
    await seed_content(running, user.user_id, generations=60, files=0, size=0)
    statements = {name: await record_selects(running, user, path) for name, path in ENDPOINTS.items()}
    urls = {s: running.unit(s).settings.database_url for s in running.runtime.units}
    app = bare_app(urls, statements)
    rows = {
        name: Row(
            "P3",
            f"GET {path} (authenticated)",
            "req/s",
            True,
            min_ratio=0.5,
            notes=[
                f"bare app replays {len(statements[name])} SELECT(s) of "
                f"{sorted({s for s, _, _ in statements[name]})}"
            ],
        )
        for name, path in ENDPOINTS.items()
    }
    try:
        async with serve_app(app, lifespan="auto", access_log=False) as bare_url:
            for _ in range(bench.options.repeat):
                for name, path in ENDPOINTS.items():
                    await compare(
                        bench,
                        rows[name],
                        (running.base_url + path, user.cookie),
                        f"{bare_url}/{name}",
                        seconds,
                    )
    finally:
        for engine in app.state.engines.values():
            await engine.dispose()
    return list(rows.values())


async def compare(
    bench: Bench, row: Row, system_target: tuple[str, str], bare_url: str, seconds: float
) -> None:
    """One repetition: the same load on the system's route, then on the bare app's."""
    url, cookie = system_target
    with bench.profiler.around(f"P3 {row.label}"):
        system = await drive(url, seconds, CONNECTIONS, headers={"Cookie": cookie})
    raw = await drive(bare_url, seconds, CONNECTIONS)
    row.system.append(system.requests_per_s)
    row.raw.append(raw.requests_per_s)
    client = f"client: {system.tool}, {CONNECTIONS} connections, {seconds:g} s per side"
    if client not in row.notes:
        row.notes.append(client)
    if system.non_2xx or raw.non_2xx:
        row.notes.append(f"ERROR non-2xx answers: system {system.non_2xx}, bare {raw.non_2xx}")
