"""Fixtures of the deploy/k8s tests: each test that takes `docs` runs once per overlay."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from rendered_manifests import OVERLAYS, Doc, rendered


@pytest.fixture(params=OVERLAYS)
def docs(request: pytest.FixtureRequest) -> list[Doc]:
    """Every document of the overlay under test."""
    return rendered(request.param)


@pytest.fixture
def overlay(docs: list[Doc], request: pytest.FixtureRequest) -> str:
    """The name of the overlay under test."""
    return str(request.node.callspec.params["docs"])
