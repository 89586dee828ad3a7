"""Handlers hold no SQL: every query is in a repository of ``adapters/`` that returns records."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "aiflux_billing"
# The session type may be named (handlers run in the caller's transaction); nothing else.
ALLOWED = {"sqlalchemy.ext.asyncio"}


def _imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add("." * node.level + (node.module or ""))
    return modules


def test_handlers_and_metrics_build_no_sql_and_touch_no_orm_rows() -> None:
    sources = [*sorted((PACKAGE / "handlers").glob("*.py")), PACKAGE / "metrics.py"]
    found = [
        (path.name, module)
        for path in sources
        for module in _imports(path)
        if (module.startswith("sqlalchemy") and module not in ALLOWED) or module.endswith("adapters.orm")
    ]
    assert found == []
