"""The privacy service keeps the shared skeleton: typed OpenAPI with documented problem
answers, request bodies that refuse unknown fields, refusals raised as domain errors outside
``api/``, short route functions, and only the dependencies it uses."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from aiflux_privacy import schemas
from aiflux_privacy.api import build_router
from aiflux_privacy.settings import PrivacySettings
from fastapi import FastAPI
from pydantic import BaseModel

pytestmark = pytest.mark.unit

SERVICE = Path(__file__).resolve().parents[2]
SOURCE = SERVICE / "src" / "aiflux_privacy"


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    app = FastAPI()
    app.include_router(build_router(PrivacySettings(env="test")))
    document = app.openapi()
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def typed_success(operation: dict[str, Any]) -> bool:
    for status, answer in operation["responses"].items():
        if status.startswith("3"):
            return True
        if status.startswith("2"):
            for content in answer.get("content", {}).values():
                schema = content.get("schema", {})
                if "$ref" in schema or schema.get("type") == "string":
                    return True
    return False


def test_every_operation_documents_a_typed_answer_and_its_problems() -> None:
    found = operations()
    assert len(found) >= 23
    untyped = [f"{m} {p}" for m, p, op in found if not typed_success(op)]
    assert untyped == []
    for method, path, operation in found:
        problems = {
            s for s, a in operation["responses"].items() if "application/problem+json" in a.get("content", {})
        }
        if path.startswith("/v1/ops/"):
            assert {"401", "403"} <= problems, f"{method} {path}"
        if operation.get("requestBody") or operation.get("parameters"):
            assert "422" in problems, f"{method} {path}"


def test_request_bodies_refuse_unknown_fields() -> None:
    bodies = [
        model
        for name, model in vars(schemas).items()
        if name.endswith("Body")
        and isinstance(model, type)
        and issubclass(model, BaseModel)
        and model is not schemas.RequestBody
    ]
    assert len(bodies) >= 9
    assert all(model.model_config.get("extra") == "forbid" for model in bodies)


def test_only_the_api_answers_with_http_problems() -> None:
    for module in SOURCE.rglob("*.py"):
        if "api" in module.relative_to(SOURCE).parts or "migrations" in module.parts:
            continue
        text = module.read_text()
        assert not re.search(r"\bProblem\b", text), module
    assert not re.search(r"\b[1-5]\d\d\b", (SOURCE / "domain" / "errors.py").read_text())


def test_route_functions_are_short_and_module_level() -> None:
    for room in ("public", "internal", "ops"):
        tree = ast.parse((SOURCE / "api" / f"{room}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                assert node.end_lineno - node.lineno < 50, node.name
                assert node in tree.body, f"{node.name} is a closure"


def test_every_declared_dependency_is_imported() -> None:
    declared = tomllib.loads((SERVICE / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=~!\[ ]", d)[0].replace("-", "_") for d in declared}
    imported = set()
    for module in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert names - imported == set()


def sql_in_handler(source: str) -> list[str]:
    """What in a handler module reaches the database other than through a repository: SQL
    imports (the session type aside), the tables, and statements run on a session."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith("sqlalchemy") and module != "sqlalchemy.ext.asyncio":
                found.append(f"imports {module}")
            if module.endswith("adapters.orm") or (
                module == "adapters" and any(alias.name == "orm" for alias in node.names)
            ):
                found.append("imports the tables")
        elif isinstance(node, ast.Import) and any(a.name.startswith("sqlalchemy") for a in node.names):
            found.append("imports sqlalchemy")
        elif isinstance(node, ast.Attribute) and node.attr in {"execute", "scalar", "scalars", "stream"}:
            found.append(f"calls .{node.attr}()")
    return found


def test_handlers_hold_no_sql() -> None:
    """Handlers read and write through the repositories of ``adapters/``, never SQL of their
    own on the session."""
    offenders = {
        path.name: found
        for path in sorted((SOURCE / "handlers").glob("*.py"))
        if (found := sql_in_handler(path.read_text()))
    }
    assert offenders == {}


def test_repositories_answer_records_not_rows() -> None:
    """What a repository hands out is a typed record (or a plain value), never a row."""
    for path in sorted((SOURCE / "adapters").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and not node.name.startswith("_"):
                returns = ast.unparse(node.returns) if node.returns else ""
                assert not re.search(r"\b(Row|Result|Select)\b", returns), (
                    f"{path.name}:{node.name} -> {returns}"
                )
