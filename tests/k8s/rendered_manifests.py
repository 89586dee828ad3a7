"""Rendered overlays of deploy/k8s, and helpers to read them, for the tests in this folder.

Each overlay is rendered with `kubectl kustomize` (the kubectl of the tools virtualenv that
mk/k8s.mk installs, or one on PATH); without kubectl, the files `make k8s-check` rendered into
.tools/k8s/rendered/ are used; without either, the tests skip with the command to run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SERVICES = ("identity", "billing", "generation", "storage", "privacy")

Doc = dict[str, Any]


def _kubectl() -> str | None:
    for candidate in (Path(sys.executable).parent / "kubectl", REPO / ".tools/k8s/bin/kubectl"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("kubectl")


def _render(overlay: str) -> list[Doc]:
    kubectl = _kubectl()
    if kubectl:
        out = subprocess.run(
            [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    else:
        rendered = REPO / ".tools/k8s/rendered" / f"{overlay}.yaml"
        if not rendered.exists():
            pytest.skip("no kubectl to render deploy/k8s: run `make k8s-check`")
        out = rendered.read_text()
    return [doc for doc in yaml.safe_load_all(out) if doc]


_CACHE: dict[str, list[Doc]] = {}


def rendered(overlay: str) -> list[Doc]:
    """The documents of one overlay, rendered once per test session."""
    if overlay not in _CACHE:
        _CACHE[overlay] = _render(overlay)
    return _CACHE[overlay]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    """The documents of one kind."""
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    """The one document of that kind and name."""
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(doc: Doc) -> Doc:
    """The pod spec of a Deployment, StatefulSet, Job or CronJob."""
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def pod_labels(doc: Doc) -> dict[str, str]:
    """The labels its pods get."""
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return doc["spec"]["template"]["metadata"]["labels"]


def workloads(docs: list[Doc]) -> list[Doc]:
    """Every Deployment, Job and CronJob of the AIFLUX services (not the platform's)."""
    return [
        d
        for d in docs
        if d["kind"] in ("Deployment", "Job", "CronJob")
        and d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "aiflux"
    ]
