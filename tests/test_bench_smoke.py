"""`make bench` at its smallest scale: every path P1-P5 runs against its raw limit and prints a
ratio. No timing is asserted (timing claims live in the benchmark's own figures); a MISS is a
fine outcome here, a path that fails to run is not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aiflux_kit.testing import AMQP_URL, PG_URL, require

ROOT = Path(__file__).resolve().parents[1]
# The line printed as each pair is measured: "P3 GET ...: system ..., raw ..., ratio 0.42, ..."
MEASURED = re.compile(r"^(P[1-5]) .*, ratio (\d[\d.e+-]*), goal .*: (PASS|MISS)$", re.MULTILINE)


@pytest.mark.needs_postgres
@pytest.mark.needs_rabbitmq
@pytest.mark.slow
def test_every_path_prints_a_ratio_against_its_limit():
    require("PostgreSQL", PG_URL, 5432)
    require("RabbitMQ", AMQP_URL, 5672)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--scale", "small", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out = done.stdout
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "did not run" not in out and "ERROR" not in out, out[-3000:] + done.stderr[-3000:]
    with_ratio = {m.group(1) for m in MEASURED.finditer(out)}
    assert with_ratio == {"P1", "P2", "P3", "P4", "P5"}, out[-3000:]
    table = out[out.index("repeat=1 scale=small") :]
    # The exit status tells the truth about the table.
    assert done.returncode == (1 if " MISS" in table else 0), table
