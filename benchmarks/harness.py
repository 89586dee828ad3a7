"""What every path of `make bench` shares: options, result rows with their goals, the report,
the profiler, scratch databases and a running stack.

A row pairs the system's measurement with its raw limit measured in the same run. Throughputs
give ratio = system / raw; durations give ratio = raw / system (the fraction of the limit's
speed the system reaches), so a ratio is always "1.0 = as fast as the building block".
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import statistics
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
AMQP = "amqp://guest:guest@127.0.0.1:5672/"
Scale = Literal["small", "full"]


@dataclass
class Options:
    """The command line."""

    only: tuple[str, ...] = ("P1", "P2", "P3", "P4", "P5")
    repeat: int = 3
    scale: Scale = "full"
    profile: bool = False

    def pick(self, small: Any, full: Any) -> Any:
        """``small`` at the smoke-test scale, else ``full``."""
        return small if self.scale == "small" else full


@dataclass
class Row:
    """One measured pair: the system against its raw limit, with the issue's goal."""

    path: str
    label: str
    unit: str
    higher_is_better: bool
    system: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    min_ratio: float | None = None  # goal on the median ratio
    max_value: float | None = None  # goal on the system's median (durations, latencies, MB)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """Median system against median raw, as a fraction of the limit (see module doc)."""
        if not self.system or not self.raw:
            return None
        system, raw = statistics.median(self.system), statistics.median(self.raw)
        if self.higher_is_better:
            return system / raw if raw else None
        return raw / system if system else None

    @property
    def goal(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"ratio ≥ {self.min_ratio:g}")
        if self.max_value is not None:
            parts.append(f"≤ {self.max_value:g} {self.unit}")
        return ", ".join(parts) or "-"

    @property
    def passed(self) -> bool:
        if not self.system or any(n.startswith("ERROR") for n in self.notes):
            return False
        ratio = self.ratio
        if self.min_ratio is not None and (ratio is None or ratio < self.min_ratio):
            return False
        return self.max_value is None or statistics.median(self.system) <= self.max_value


def _fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.4g} / {statistics.median(values):.4g}"


def report(rows: list[Row], options: Options) -> str:
    """The table: min / median of each side, the ratio, the goal and PASS/MISS."""
    lines = [
        f"repeat={options.repeat} scale={options.scale}  (min / median of each side; "
        "ratio = fraction of the raw limit, 1.0 = as fast)",
        f"{'path':4s} {'measure':52s} {'system':>20s} {'raw limit':>20s} {'ratio':>6s}  {'goal':22s} result",
    ]
    for row in rows:
        ratio = row.ratio
        lines.append(
            f"{row.path:4s} {row.label + ' (' + row.unit + ')':52s} {_fmt(row.system):>20s} "
            f"{_fmt(row.raw):>20s} {(f'{ratio:.2g}' if ratio is not None else '-'):>6s}  "
            f"{row.goal:22s} {'PASS' if row.passed else 'MISS'}"
        )
        lines.extend(f"       note: {note}" for note in row.notes)
    return "\n".join(lines)


def ratio_line(row: Row) -> str:
    """One line printed as soon as a row is measured (progress on a long run)."""
    ratio = row.ratio
    return (
        f"{row.path} {row.label}: system {_fmt(row.system)} {row.unit}, raw {_fmt(row.raw)}"
        f", ratio {f'{ratio:.2g}' if ratio is not None else '-'}, goal {row.goal}: "
        f"{'PASS' if row.passed else 'MISS'}"
    )


class Profiler:
    """cProfile of the system side of a path (first repetition only), when asked for."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.profiles: dict[str, cProfile.Profile] = {}

    @contextlib.contextmanager
    def around(self, name: str) -> Iterator[None]:
        """Profile the block as ``name`` unless that name was profiled already."""
        if not self.enabled or name in self.profiles:
            yield
            return
        profile = cProfile.Profile()
        profile.enable()
        try:
            yield
        finally:
            profile.disable()
            self.profiles[name] = profile

    def report(self, top: int = 25) -> str:
        """The top cumulative entries of each profile (the remaining cost of each path), and
        the top entries by own time (under asyncio the cumulative list starts with the loop)."""
        out = io.StringIO()
        for name, profile in self.profiles.items():
            stats = pstats.Stats(profile, stream=out)
            stats.strip_dirs()
            out.write(f"\n=== profile: {name} (top {top} by cumulative time) ===\n")
            stats.sort_stats("cumulative").print_stats(top)
            out.write(f"=== profile: {name} (top {top} by own time) ===\n")
            stats.sort_stats("tottime").print_stats(top)
        return out.getvalue()


class Databases:
    """Scratch databases on the local PostgreSQL, named ``bench_<run>_<name>``, dropped after."""

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.made: list[str] = []

    def __call__(self, name: str) -> str:
        from aiflux_kit.db import ensure_database

        url = f"{PG}bench_{self.run}_{name}"
        ensure_database(url)
        self.made.append(url)
        return url

    def drop_all(self) -> None:
        from aiflux_kit.db import drop_database

        for url in self.made:
            with contextlib.suppress(Exception):
                drop_database(url)
        self.made.clear()


@dataclass
class Bench:
    """What a path gets: the options, the profiler, scratch databases, a temp folder, and stacks
    shared by the paths of one run (started once: starting five services takes seconds)."""

    options: Options
    profiler: Profiler
    databases: Databases
    tmp: Path
    resources: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    stacks: dict[str, Any] = field(default_factory=dict)

    async def stack(self, name: str = "embedded", storage: dict[str, Any] | None = None) -> Any:
        """The running stack ``name`` of this run (started on first use)."""
        if name not in self.stacks:
            self.stacks[name] = await self.resources.enter_async_context(run_bench_stack(self, name, storage))
        return self.stacks[name]

    async def close_stacks(self) -> None:
        """Stop the running stacks (they hold many PostgreSQL connections between them)."""
        await self.resources.aclose()
        self.stacks.clear()


# Rate limits a load test would otherwise trip over (it is one client IP and one account).
UNLIMITED = "1000000/minute"


def stack_overrides(options: Options, storage: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Settings of a benchmark stack: production costs (bcrypt 12), no rate limits in the way,
    the local AI provider offline."""
    from aiflux_identity.settings import IdentitySettings

    # Every identity limit (by name, so a new one is lifted too): the bench is one client IP.
    identity: dict[str, Any] = {
        name: UNLIMITED for name in IdentitySettings.model_fields if name.startswith("limit_")
    }
    identity["bcrypt_rounds"] = options.pick(4, 12)
    return {
        "identity": identity,
        "billing": {"checkout_backend": "simulated"},
        "generation": {"offline": True},
        "storage": storage or {},
    }


@contextlib.asynccontextmanager
async def run_bench_stack(
    bench: Bench, name: str, storage: dict[str, Any] | None = None
) -> AsyncIterator[Any]:
    """All five services in this process on fresh databases and the in-process bus, served by
    uvicorn over loopback (the embedded mode's shape, as the test stack builds it)."""
    from aiflux_runner.testing import run_stack

    data_dir = bench.tmp / name
    prefix = f"{name}_"

    def database(service: str) -> str:
        return bench.databases(prefix + service)

    from aiflux_kit.bus.local import LocalBroker
    from aiflux_kit.settings import ServiceSettings
    from aiflux_runner.services import SERVICES

    # The test stack polls every 0.2 s (fast tests); the bench runs the production defaults.
    overrides = stack_overrides(bench.options, storage)
    poll = ServiceSettings.model_fields["outbox_poll_interval_s"].default
    for service in SERVICES:
        overrides.setdefault(service, {})["outbox_poll_interval_s"] = poll
    bus = {"broker": LocalBroker(database("bus"))}
    async with run_stack(database, data_dir, overrides=overrides, platform_overrides=bus) as running:
        yield running
