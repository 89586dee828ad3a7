"""`make bench`: P1-P5 of issue 13, each against its raw limit in the same run.

    python -m benchmarks [--only P1,P3] [--repeat N] [--scale small|full] [--profile]

Prints min / median of each side, the ratio and the goal with PASS/MISS; exits 1 when a goal is
missed (or a path failed to run), 0 when every goal is met.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import tempfile
import traceback
from pathlib import Path

from uvicorn.loops.auto import auto_loop_factory

from .harness import Bench, Databases, Options, Profiler, Row, ratio_line, report

# Run in this order by default: P3, P4, P5 and P2's local cases share one stack, and P2 ends
# with the S3 stack, so a run starts each stack once.
PATHS = {"P1": "p1_events", "P3": "p3_api", "P4": "p4_logins", "P5": "p5_export", "P2": "p2_erasure"}


def parse(argv: list[str] | None = None) -> Options:
    """The options from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", default=",".join(PATHS), help="comma-separated paths to measure (default: all)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each pair")
    parser.add_argument(
        "--scale",
        choices=("small", "full"),
        default="full",
        help="small: the smoke test's tiny sizes; full: the issue's sizes",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the system side and print its top cumulative entries"
    )
    args = parser.parse_args(argv)
    only = tuple(p.strip().upper() for p in args.only.split(",") if p.strip())
    unknown = set(only) - set(PATHS)
    if unknown:
        parser.error(f"unknown path(s) {', '.join(sorted(unknown))}; choose from {', '.join(PATHS)}")
    return Options(only=only, repeat=max(1, args.repeat), scale=args.scale, profile=args.profile)


async def measure_path(bench: Bench, path: str) -> list[Row]:
    """The rows of one path, printed as they come; a crash is a MISS row saying why."""
    module = importlib.import_module(f"benchmarks.{PATHS[path]}")
    try:
        measured: list[Row] = await module.measure(bench)
    except Exception as exc:
        traceback.print_exc()
        measured = [Row(path, "did not run", "-", True, notes=[f"ERROR {type(exc).__name__}: {exc}"[:300]])]
    for row in measured:
        print(ratio_line(row), flush=True)
    return measured


async def run(options: Options) -> list[Row]:
    """Measure every chosen path."""
    rows: list[Row] = []
    databases = Databases()
    profiler = Profiler(options.profile)
    try:
        with tempfile.TemporaryDirectory(prefix="aiflux-bench-") as tmp:
            bench = Bench(options, profiler, databases, Path(tmp))
            async with bench.resources:
                for path in options.only:
                    rows.extend(await measure_path(bench, path))
    finally:
        await asyncio.to_thread(databases.drop_all)
    if options.profile:
        print(profiler.report())
    return rows


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    # SIGTERM unwinds like Ctrl-C, so stacks stop and scratch databases are dropped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # The services log every request and event at INFO; only problems matter here.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every call
    # The loop uvicorn picks for the services (uvloop where installed), for both sides.
    with asyncio.Runner(loop_factory=auto_loop_factory()) as runner:
        print(f"event loop: {type(runner.get_loop()).__module__}", flush=True)
        rows = runner.run(run(options))
    print()
    print(report(rows, options))
    return 0 if rows and all(row.passed for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
