"""P4: logins/s at bcrypt cost 12 through `POST /v1/auth/login` against raw `bcrypt.checkpw` on
the same cores with the same thread count as identity's hashing pool; and the `/healthz` p99
latency while that login load runs (one client probing every 10 ms)."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

from .harness import Bench, Row
from .load import drive
from .seed import sign_up

LOGIN_CONNECTIONS = 8  # more than the hashing threads, so the pool is always busy
HEALTHZ_P99_GOAL_MS = 50.0
# The prober pauses between probes: asking back to back (~2,000/s once answers stopped waiting
# for delayed ACKs) kept the event loop busy on a core of its own, a load no health check
# makes, and took that core from the logins it was meant to watch. 100 probes/s still gives
# ~1,000 samples in 10 s.
HEALTHZ_PAUSE_MS = 10


def raw_checks_per_s(password: str, rounds: int, threads: int, seconds: float) -> float:
    """``bcrypt.checkpw`` of a cost-``rounds`` hash on ``threads`` threads for ``seconds``."""
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds))
    deadline = time.perf_counter() + seconds

    def check_until_deadline() -> int:
        done = 0
        while time.perf_counter() < deadline:
            assert bcrypt.checkpw(password.encode(), hashed)
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda _: check_until_deadline(), range(threads)))
    return total / (time.perf_counter() - started)


async def measure(bench: Bench) -> list[Row]:
    """Login load with a `/healthz` prober beside it, then raw bcrypt, repeated."""
    seconds = bench.options.pick(1, 10)
    running = await bench.stack()
    settings = running.unit("identity").settings
    threads = running.container("identity").hasher.workers
    user = await sign_up(running)
    body = json.dumps({"login": user.username, "password": user.password})
    logins = Row(
        "P4",
        f"POST /v1/auth/login at bcrypt cost {settings.bcrypt_rounds}",
        "logins/s",
        True,
        min_ratio=0.9,
        notes=[f"raw: bcrypt.checkpw on {threads} threads (identity's hashing pool size)"],
    )
    healthz = Row("P4", "/healthz p99 under the login load", "ms", False, max_value=HEALTHZ_P99_GOAL_MS)
    for _ in range(bench.options.repeat):
        with bench.profiler.around("P4 logins"):
            login, probe = await asyncio.gather(
                drive(f"{running.base_url}/v1/auth/login", seconds, LOGIN_CONNECTIONS, body=body),
                drive(f"{running.base_url}/healthz", seconds, 1, pause_ms=HEALTHZ_PAUSE_MS),
            )
        logins.system.append(login.requests_per_s)
        client = f"client: {login.tool}, {LOGIN_CONNECTIONS} connections, {seconds:g} s"
        if client not in logins.notes:
            logins.notes.append(client)
        healthz.system.append(probe.p99_ms)
        if login.non_2xx or probe.non_2xx:
            logins.notes.append(f"ERROR non-2xx answers: logins {login.non_2xx}, healthz {probe.non_2xx}")
        logins.raw.append(
            await asyncio.to_thread(raw_checks_per_s, user.password, settings.bcrypt_rounds, threads, seconds)
        )
    return [logins, healthz]
