"""An import-linter contract type the built-in ones lack: a package may import only an allow-list.

``aiflux_contracts`` is shared by every service and by outside consumers of the events, so it
may depend on pydantic and the standard library and on nothing else. A ``forbidden`` contract
would have to name every other package in the world; this one names what is allowed.
Configured in the root ``pyproject.toml`` (``[tool.importlinter]``, type ``allow_list``).
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class AllowListContract(Contract):
    """``source_package`` (and its subpackages) imports only itself, the standard library (if
    ``allow_stdlib``) and the top-level packages in ``allowed``."""

    type_name = "allow_list"

    source_package = fields.StringField()
    allowed = fields.ListField(subfield=fields.StringField())
    allow_stdlib = fields.BooleanField(required=False, default=True)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        source = str(self.source_package)
        allowed = {source, *self.allowed}  # type: ignore[misc]
        if self.allow_stdlib:
            allowed |= set(sys.stdlib_module_names)
        outside: list[str] = []
        for importer in sorted({source} | graph.find_descendants(source)):
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if imported.split(".")[0] not in allowed:
                    outside.append(f"{importer} -> {imported}")
        return ContractCheck(kept=not outside, metadata={"imports": outside})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["imports"]:
            output.print_error(line)
        output.new_line()
