"""Handlers hold no SQL: every query lives in a repository of ``adapters/`` that returns typed
values, so a handler can be read (and faked) without the schema."""

from __future__ import annotations

import ast
from pathlib import Path

import aiflux_identity.handlers as handlers_package
import pytest

pytestmark = pytest.mark.unit

HANDLERS = sorted(Path(handlers_package.__file__).parent.glob("*.py"))
# A handler may hold a transaction and recognise a lost race; it may not build statements.
ALLOWED_SQLALCHEMY = {"sqlalchemy.exc", "sqlalchemy.ext.asyncio"}


def _sql_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] == "sqlalchemy" and module not in ALLOWED_SQLALCHEMY:
                found.append(f"imports {module}")
            if module == "adapters.orm" or module.endswith(".orm"):
                found.append("imports the ORM tables")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "execute"
        ):
            found.append(f"runs a statement (line {node.lineno})")
    return found


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.name)
def test_handler_runs_no_sql_itself(path: Path) -> None:
    assert _sql_in(path) == []
