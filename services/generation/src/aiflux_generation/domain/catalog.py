"""The model catalog: which models exist, what they make, who runs them, what they cost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Modality = Literal["image", "video", "audio", "animated_video", "text"]
MODALITIES: tuple[str, ...] = ("image", "video", "audio", "animated_video", "text")
PROVIDERS: tuple[str, ...] = ("wavespeed", "gemini", "runpod", "atlascloud", "local")

DEFAULT_CATALOG: tuple[dict[str, Any], ...] = (
    {"id": "flux-dev", "modality": "image", "provider": "wavespeed",
     "provider_model": "wavespeed-ai/flux-dev", "credits": 4,
     "accepted_inputs": ["image"], "max_inputs": 1},
    {"id": "wan-2.2-video", "modality": "video", "provider": "wavespeed",
     "provider_model": "wavespeed-ai/wan-2.2/i2v-480p", "credits": 30,
     "accepted_inputs": ["image"], "max_inputs": 1},
    {"id": "gemini-image", "modality": "image", "provider": "gemini",
     "provider_model": "gemini-2.5-flash-image", "credits": 3,
     "accepted_inputs": ["image"], "max_inputs": 3},
    {"id": "gemini-text", "modality": "text", "provider": "gemini",
     "provider_model": "gemini-2.5-flash", "credits": 1,
     "accepted_inputs": ["image", "audio", "video"], "max_inputs": 3},
    {"id": "veo-3", "modality": "video", "provider": "gemini",
     "provider_model": "veo-3.0-generate-001", "credits": 60,
     "accepted_inputs": [], "max_inputs": 0},
    {"id": "tts-voice", "modality": "audio", "provider": "runpod",
     "provider_model": "tts-endpoint", "credits": 2,
     "accepted_inputs": ["audio"], "max_inputs": 1},
    {"id": "animate-portrait", "modality": "animated_video", "provider": "runpod",
     "provider_model": "animate-endpoint", "credits": 20,
     "accepted_inputs": ["image", "audio"], "max_inputs": 2},
    {"id": "seedance-1.5", "modality": "video", "provider": "atlascloud",
     "provider_model": "bytedance/seedance-v1.5-pro/text-to-video", "credits": 40,
     "accepted_inputs": ["image"], "max_inputs": 1},
    {"id": "local-image", "modality": "image", "provider": "local",
     "provider_model": "local/image", "credits": 1, "accepted_inputs": ["image"],
     "max_inputs": 1},
    {"id": "local-audio", "modality": "audio", "provider": "local",
     "provider_model": "local/audio", "credits": 1, "accepted_inputs": [], "max_inputs": 0},
    {"id": "local-animation", "modality": "animated_video", "provider": "local",
     "provider_model": "local/animation", "credits": 2, "accepted_inputs": ["image"],
     "max_inputs": 1},
)


@dataclass(frozen=True)
class CatalogModel:
    """One model users can pick."""

    id: str
    modality: str
    provider: str
    provider_model: str
    credits: int
    accepted_inputs: tuple[str, ...] = ()
    max_inputs: int = 0

    def public(self) -> dict[str, Any]:
        """What ``GET /v1/models`` shows."""
        return {"id": self.id, "modality": self.modality, "provider": self.provider,
                "credits": self.credits, "accepted_inputs": list(self.accepted_inputs),
                "max_inputs": self.max_inputs}


class Catalog:
    """Models by id, validated once at start-up."""

    def __init__(self, models: Iterable[CatalogModel]) -> None:
        self._models = {m.id: m for m in models}

    @classmethod
    def from_config(cls, entries: Iterable[Mapping[str, Any]], *, offline: bool,
                    allow_local: bool = True) -> Catalog:
        """Build from settings; ``offline`` runs every model on the local provider, and
        without ``allow_local`` (production) the local provider's models are left out."""
        return cls(model for entry in entries
                   if (model := _model(entry, offline)).provider != "local" or allow_local)

    def get(self, model_id: str) -> CatalogModel | None:
        """The model, or None when there is no such model."""
        return self._models.get(model_id)

    def all(self) -> list[CatalogModel]:
        """Every model, in configuration order."""
        return list(self._models.values())


def _model(entry: Mapping[str, Any], offline: bool) -> CatalogModel:
    modality, provider = entry["modality"], entry["provider"]
    if modality not in MODALITIES or provider not in PROVIDERS:
        raise ValueError(f"catalog entry {entry.get('id')!r}: bad modality or provider")
    credits = int(entry["credits"])
    if credits < 0:
        raise ValueError(f"catalog entry {entry['id']!r}: credits must not be negative")
    provider_model = str(entry["provider_model"])
    if offline and provider != "local":
        provider, provider_model = "local", f"local/{modality}"
    return CatalogModel(
        id=str(entry["id"]), modality=modality, provider=provider,
        provider_model=provider_model, credits=credits,
        accepted_inputs=tuple(entry.get("accepted_inputs", ())),
        max_inputs=int(entry.get("max_inputs", 0)))
