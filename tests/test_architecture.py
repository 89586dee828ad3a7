"""The import rules of the root pyproject.toml (``[tool.importlinter]``) hold on the code.

Each contract is its own test, so a broken one names itself and lists the offending imports
(importer -> imported, with line numbers) exactly as ``lint-imports`` prints them. The import
graph is built once for the module, without import-linter's cache (a stale cache must never
hide an import).
"""

from __future__ import annotations

import importlib
from copy import deepcopy
from pathlib import Path
from typing import Any

import grimp
import pytest
from aiflux_runner.import_contracts import AllowListContract
from importlinter import api
from importlinter.application import output
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import Contract

pytestmark = pytest.mark.unit  # no servers: part of `make test-fast`

ROOT = Path(__file__).resolve().parent.parent
CONFIG = api.read_configuration(str(ROOT / "pyproject.toml"))
SESSION: dict[str, Any] = CONFIG["session_options"]
CONTRACTS: list[dict[str, Any]] = CONFIG["contracts_options"]


BUILT_IN: dict[str, type[Contract]] = {
    "forbidden": ForbiddenContract,
    "independence": IndependenceContract,
    "layers": LayersContract,
}


def _contract_class(type_name: str) -> type[Contract]:
    """A built-in type, or one the configuration registers (``contract_types``)."""
    custom = dict(entry.split(": ") for entry in SESSION.get("contract_types", []))
    if type_name not in custom:
        return BUILT_IN[type_name]
    module, _, name = custom[type_name].rpartition(".")
    contract_class: type[Contract] = getattr(importlib.import_module(module), name)
    return contract_class


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*SESSION["root_packages"], include_external_packages=True, cache_dir=None)


def _broken_report(contract: Contract, check: Any) -> str:
    with output.console.capture() as captured:
        contract.render_broken_contract(check)
    return captured.get()


def test_the_contracts_cover_every_rule() -> None:
    ids = {c["id"] for c in CONTRACTS}
    services = ["identity", "billing", "generation", "storage", "privacy"]
    expected = {
        "services-independent",
        "kit-knows-no-service",
        "contracts-pydantic-only",
        *(
            f"{s}-{rule}"
            for s in services
            for rule in ("domain-pure", "handlers-no-http", "no-http-below-api")
        ),
    }
    assert expected <= ids


@pytest.mark.parametrize("options", CONTRACTS, ids=[c["id"] for c in CONTRACTS])
def test_import_contract_is_kept(options: dict[str, Any], graph: grimp.ImportGraph) -> None:
    contract = _contract_class(options["type"])(
        name=options["name"], session_options=SESSION, contract_options=options
    )
    try:
        check = contract.check(deepcopy(graph), verbose=False)
    except ValueError as missing:  # e.g. "Module 'aiflux_x.domain' does not exist."
        pytest.fail(f"{options['name']}: {missing} (the shared service layout expects it)")
    assert check.kept, f"{options['name']} BROKEN:\n{_broken_report(contract, check)}"


def test_the_allow_list_contract_catches_an_import_outside_its_list() -> None:
    # The built-in contract types are import-linter's own (tested there); this one is ours.
    fake = grimp.ImportGraph()
    for module in ("events", "events.base", "pydantic", "json", "fastapi"):
        fake.add_module(module, is_squashed=module in {"pydantic", "json", "fastapi"})
    fake.add_import(importer="events.base", imported="pydantic")
    fake.add_import(importer="events.base", imported="json")
    options = {"name": "events", "source_package": "events", "allowed": ["pydantic"]}
    contract = AllowListContract(name="events", session_options={}, contract_options=options)
    assert contract.check(deepcopy(fake), verbose=False).kept

    fake.add_import(importer="events", imported="fastapi")
    check = contract.check(fake, verbose=False)
    assert not check.kept
    assert check.metadata["imports"] == ["events -> fastapi"]
