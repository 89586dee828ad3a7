"""Supervision of the processes `make up` starts: each part in a process group of its own,
restarted with backoff when it dies, all of them stopped (group by group) on any signal, and
a pid file that says exactly what is running so `make down` stops that and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
OWN_MARKER = "aiflux_runner"
"""Every process the pid file names runs a command line containing this (checked before a
signal is sent, so a recycled pid of someone else's process is never hit)."""


@dataclass(frozen=True)
class Part:
    """One supervised process: ``name`` like ``identity.worker``, its command, its health URL."""

    name: str
    argv: Sequence[str]
    health_url: str


@dataclass(frozen=True)
class Backoff:
    """Delay before restarting a crashed part: doubles per crash, back to ``first`` once the
    part has stayed up for ``stable_s``."""

    first: float = 1.0
    most: float = 30.0
    stable_s: float = 60.0

    def next(self, delay: float, ran_s: float) -> float:
        """The delay after this one."""
        return self.first if ran_s >= self.stable_s else min(self.most, delay * 2)


class PidFile:
    """``<data dir>/up.pid``: JSON ``{"supervisor": pid, "parts": {name: pid}}``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, parts: Mapping[str, int]) -> None:
        """Record this supervisor and its parts' current pids (atomically)."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"supervisor": os.getpid(), "parts": dict(parts)}))
        tmp.replace(self.path)

    def read(self) -> dict[str, object] | None:
        """The recorded state, or None without a (readable) file."""
        try:
            state: dict[str, object] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return state

    def running_supervisor(self) -> int | None:
        """The pid of a live supervisor recorded here, if any."""
        state = self.read()
        pid = state.get("supervisor") if state else None
        return pid if isinstance(pid, int) and is_ours(pid) else None

    def remove(self) -> None:
        """Forget the state (the supervisor has stopped)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def is_ours(pid: int) -> bool:
    """True when ``pid`` is alive and runs one of our commands (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and OWN_MARKER.encode() in cmdline


class Supervisor:
    """Runs ``parts`` until :meth:`stop`; restarts any that exits on its own."""

    def __init__(
        self, parts: Sequence[Part], env: Mapping[str, str], pid_file: PidFile, backoff: Backoff = Backoff()
    ) -> None:
        self.parts = parts
        self.env = dict(env)
        self.pid_file = pid_file
        self.backoff = backoff
        self.stopping = asyncio.Event()
        self.running: dict[str, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start every part (each keeps itself running in a task)."""
        self.pid_file.write({})
        self._tasks = [asyncio.create_task(self._keep_running(p)) for p in self.parts]

    async def _keep_running(self, part: Part) -> None:
        delay = self.backoff.first
        while not self.stopping.is_set():
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *part.argv, env=self.env, start_new_session=True
            )  # its own process group
            self.running[part.name] = process
            self._record()
            code = await process.wait()
            del self.running[part.name]
            self._record()
            if self.stopping.is_set():
                return
            delay = self.backoff.next(delay, time.monotonic() - started)
            log.error("%s exited with code %s; restarting in %.0fs", part.name, code, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)

    def _record(self) -> None:
        if not self.stopping.is_set():
            self.pid_file.write({n: p.pid for n, p in self.running.items()})

    async def stop(self, grace_s: float = 35.0) -> None:
        """SIGTERM every part's process group, SIGKILL what is left after ``grace_s``."""
        self.stopping.set()
        for process in list(self.running.values()):
            signal_group(process.pid, signal.SIGTERM)
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
            for process in list(self.running.values()):
                signal_group(process.pid, signal.SIGKILL)
            if pending:
                await asyncio.wait(pending, timeout=5)
        self.pid_file.remove()


def signal_group(pgid: int, signum: int) -> None:
    """Send ``signum`` to the process group ``pgid`` (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def on_stop_signals(stop: asyncio.Event) -> None:
    """Any stop signal (terminal, `make down`, a closed terminal) sets ``stop``."""
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)


async def watch_parent(stop: asyncio.Event, interval_s: float = 1.0) -> None:
    """Set ``stop`` when the command that started us (make, uv) is gone: never outlive it."""
    parent = os.getppid()
    while not stop.is_set():
        if os.getppid() != parent:
            print("aiflux up: the starting command is gone; stopping", file=sys.stderr)
            stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


def stop_recorded(pid_file: PidFile, wait_s: float = 60.0) -> str:
    """`make down`: stop the supervisor the pid file names (which stops its parts); if it does
    not stop in ``wait_s``, kill it and the recorded parts' groups. Returns what was done."""
    state = pid_file.read()
    if state is None:
        return "nothing to stop (no pid file)"
    supervisor = pid_file.running_supervisor()
    if supervisor is not None:
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + wait_s
        while is_ours(supervisor) and time.monotonic() < deadline:
            time.sleep(0.2)
        if is_ours(supervisor):
            os.kill(supervisor, signal.SIGKILL)
    parts = state.get("parts")
    orphans = [
        pid
        for pid in (parts.values() if isinstance(parts, dict) else ())
        if isinstance(pid, int) and is_ours(pid)
    ]
    for pid in orphans:
        signal_group(pid, signal.SIGKILL)
    pid_file.remove()
    if supervisor is not None:
        return "stopped"
    return (
        f"stopped {len(orphans)} part(s) left by a supervisor that died"
        if orphans
        else "nothing was running (stale pid file removed)"
    )
