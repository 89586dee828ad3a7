"""HTTP load from outside the server's process: `wrk` when installed (the Makefile installs it
from Debian when it can), else this module run as a subprocess with httpx and a bounded
concurrency. Both report requests/s, p99 latency and non-2xx answers.

    python -m benchmarks.load URL --seconds 5 --connections 16 [--header 'K: V'] [--body JSON]
        [--pause-ms 10]

``pause_ms`` paces each connection (a pause after every answer, not counted in the latency):
a probe that measures how fast the system answers, instead of a load that takes a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

CONNECTIONS = 16


@dataclass
class LoadResult:
    """What one load run measured."""

    requests_per_s: float
    p99_ms: float
    non_2xx: int
    tool: str


def _lua_post(body: str) -> str:
    return (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n"
    )


def _lua_pause(pause_ms: float) -> str:
    # wrk calls delay() before each request and waits that many ms (outside the latency).
    return f"function delay()\n  return {max(1, round(pause_ms))}\nend\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> LoadResult:
    """Requests/s, the 99th percentile and non-2xx count out of `wrk --latency` output."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    return LoadResult(
        rate,
        float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else float("nan"),
        (int(non_2xx.group(1)) if non_2xx else 0) + (int(errors.group(1)) if errors else 0),
        "wrk",
    )


async def drive(
    url: str,
    seconds: float,
    connections: int = CONNECTIONS,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    pause_ms: float = 0,
) -> LoadResult:
    """GET (or POST ``body`` as JSON) ``url`` for ``seconds`` from another process; with
    ``pause_ms``, each connection pauses that long after every answer."""
    headers = headers or {}
    wrk = shutil.which("wrk")
    if wrk:
        args = [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "--timeout",
            "30s",
        ]
        for name, value in headers.items():
            args += ["-H", f"{name}: {value}"]
        script = None
        lua = (_lua_post(body) if body is not None else "") + (_lua_pause(pause_ms) if pause_ms else "")
        if lua:
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
                handle.write(lua)
                script = handle.name
            args += ["-s", script]
        try:
            out = await _run([*args, url])
        finally:
            if script:
                os.unlink(script)
        return parse_wrk(out)
    args = [
        sys.executable,
        "-m",
        "benchmarks.load",
        url,
        "--seconds",
        str(seconds),
        "--connections",
        str(connections),
    ]
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    if body is not None:
        args += ["--body", body]
    if pause_ms:
        args += ["--pause-ms", str(pause_ms)]
    return LoadResult(**json.loads(await _run(args)))


async def _run(args: list[str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {err.decode()[-500:]}")
    return out.decode()


async def _python_load(
    url: str,
    seconds: float,
    connections: int,
    headers: dict[str, str],
    body: str | None,
    pause_ms: float = 0,
) -> LoadResult:
    import httpx

    latencies: list[float] = []
    non_2xx = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal non_2xx
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                if body is None:
                    response = await client.get(url)
                else:
                    response = await client.post(
                        url, content=body, headers={"Content-Type": "application/json"}
                    )
                latencies.append((time.perf_counter() - started) * 1000)
                non_2xx += not 200 <= response.status_code < 400
                if pause_ms:
                    await asyncio.sleep(pause_ms / 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    return LoadResult(len(latencies) / elapsed, p99, non_2xx, "httpx")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body")
    parser.add_argument("--pause-ms", type=float, default=0)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    result = asyncio.run(
        _python_load(args.url, args.seconds, args.connections, headers, args.body, args.pause_ms)
    )
    print(json.dumps(result.__dict__))


if __name__ == "__main__":
    main()
