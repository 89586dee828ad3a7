"""The catalog from configuration."""

from __future__ import annotations

import pytest
from aiflux_generation.domain.catalog import DEFAULT_CATALOG, Catalog


def test_production_catalog_has_no_local_models_and_embedded_runs_all_locally():
    production = Catalog.from_config(DEFAULT_CATALOG, offline=False, allow_local=False)
    assert "local" not in {m.provider for m in production.all()}
    assert production.get("flux-dev").provider_model == "wavespeed-ai/flux-dev"
    embedded = Catalog.from_config(DEFAULT_CATALOG, offline=True)
    assert {m.provider for m in embedded.all()} == {"local"}
    assert {m.id for m in embedded.all()} == {e["id"] for e in DEFAULT_CATALOG}


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "x", "modality": "hologram", "provider": "local", "provider_model": "m", "credits": 1},
        {"id": "x", "modality": "image", "provider": "openai", "provider_model": "m", "credits": 1},
        {"id": "x", "modality": "image", "provider": "local", "provider_model": "m", "credits": -1},
    ],
)
def test_bad_catalog_entries_stop_the_service_at_start(entry):
    with pytest.raises(ValueError):
        Catalog.from_config([entry], offline=False)
