"""The model catalog: which models exist, what they make, who runs them, what they cost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .params import ParamRules, parse_rules

Modality = Literal["image", "video", "audio", "animated_video", "text"]
MODALITIES: tuple[str, ...] = ("image", "video", "audio", "animated_video", "text")
PROVIDERS: tuple[str, ...] = ("wavespeed", "gemini", "runpod", "atlascloud", "local")

SEED = {"type": "int", "min": 0, "max": 2_147_483_647}
NEGATIVE_PROMPT = {"type": "string", "max_length": 500}

# Each entry's ``params`` is the full allow-list of what users may send (see domain/params.py);
# ``fixed_params`` pins count-like provider parameters to one result; ``credits`` is the price
# with default params, and priced params (duration) add to it.
DEFAULT_CATALOG: tuple[dict[str, Any], ...] = (
    {
        "id": "flux-dev",
        "modality": "image",
        "provider": "wavespeed",
        "provider_model": "wavespeed-ai/flux-dev",
        "credits": 4,
        "accepted_inputs": ["image"],
        "max_inputs": 1,
        "params": {
            "seed": SEED,
            "size": {
                "type": "string",
                "choices": ["1024*1024", "1024*768", "768*1024", "1280*720", "720*1280"],
            },
            "guidance_scale": {"type": "number", "min": 1, "max": 10},
        },
        "fixed_params": {"num_images": 1},
    },
    {
        "id": "wan-2.2-video",
        "modality": "video",
        "provider": "wavespeed",
        "provider_model": "wavespeed-ai/wan-2.2/i2v-480p",
        "credits": 30,
        "accepted_inputs": ["image"],
        "max_inputs": 1,
        "params": {
            "seed": SEED,
            "negative_prompt": NEGATIVE_PROMPT,
            "duration": {"type": "int", "choices": [5, 8], "default": 5, "credits_per_unit": 6},
        },
    },
    {
        "id": "gemini-image",
        "modality": "image",
        "provider": "gemini",
        "provider_model": "gemini-2.5-flash-image",
        "credits": 3,
        "accepted_inputs": ["image"],
        "max_inputs": 3,
    },
    {
        "id": "gemini-text",
        "modality": "text",
        "provider": "gemini",
        "provider_model": "gemini-2.5-flash",
        "credits": 1,
        "accepted_inputs": ["image", "audio", "video"],
        "max_inputs": 3,
    },
    {
        "id": "veo-3",
        "modality": "video",
        "provider": "gemini",
        "provider_model": "veo-3.0-generate-001",
        "credits": 60,
        "accepted_inputs": [],
        "max_inputs": 0,
        "params": {
            "aspect_ratio": {"type": "string", "choices": ["16:9", "9:16"], "send_as": "aspectRatio"},
            "negative_prompt": {**NEGATIVE_PROMPT, "send_as": "negativePrompt"},
            "seed": SEED,
        },
        "fixed_params": {"sampleCount": 1, "resolution": "720p"},
    },
    {
        "id": "tts-voice",
        "modality": "audio",
        "provider": "runpod",
        "provider_model": "tts-endpoint",
        "credits": 2,
        "accepted_inputs": ["audio"],
        "max_inputs": 1,
        "params": {
            "voice": {"type": "string", "choices": ["female-1", "female-2", "male-1", "male-2"]},
            "speed": {"type": "number", "min": 0.75, "max": 1.25},
            "seed": SEED,
        },
    },
    {
        "id": "animate-portrait",
        "modality": "animated_video",
        "provider": "runpod",
        "provider_model": "animate-endpoint",
        "credits": 20,
        "accepted_inputs": ["image", "audio"],
        "max_inputs": 2,
        "params": {"seed": SEED},
    },
    {
        "id": "seedance-1.5",
        "modality": "video",
        "provider": "atlascloud",
        "provider_model": "bytedance/seedance-v1.5-pro/text-to-video",
        "credits": 40,
        "accepted_inputs": ["image"],
        "max_inputs": 1,
        "params": {
            "seed": SEED,
            "aspect_ratio": {"type": "string", "choices": ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]},
            "duration": {"type": "int", "min": 5, "max": 10, "default": 5, "credits_per_unit": 8},
        },
        "fixed_params": {"resolution": "720p"},
    },
    {
        "id": "local-image",
        "modality": "image",
        "provider": "local",
        "provider_model": "local/image",
        "credits": 1,
        "accepted_inputs": ["image"],
        "max_inputs": 1,
        "params": {"seed": SEED},
    },
    {
        "id": "local-audio",
        "modality": "audio",
        "provider": "local",
        "provider_model": "local/audio",
        "credits": 1,
        "accepted_inputs": [],
        "max_inputs": 0,
        "params": {"voice": {"type": "string", "choices": ["female-1", "male-1"]}},
    },
    {
        "id": "local-animation",
        "modality": "animated_video",
        "provider": "local",
        "provider_model": "local/animation",
        "credits": 2,
        "accepted_inputs": ["image"],
        "max_inputs": 1,
        "params": {"duration": {"type": "int", "min": 1, "max": 4, "default": 2, "credits_per_unit": 1}},
    },
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
    rules: ParamRules = field(default_factory=ParamRules)

    def check_params(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """The params to store and the credits they cost; :class:`ParamError` names a key
        that is not accepted or out of range."""
        clean = self.rules.validate(self.id, params)
        return clean, self.rules.price(self.credits, clean)

    def provider_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """What the provider is sent for these stored params (see ``ParamRules``)."""
        return self.rules.for_provider(params)

    @property
    def outputs(self) -> int:
        """How many results the price covers (and are kept)."""
        return self.rules.outputs

    def public(self) -> dict[str, Any]:
        """What ``GET /v1/models`` shows: ``credits`` with default params, and each accepted
        param's type, range or choices and price."""
        return {
            "id": self.id,
            "modality": self.modality,
            "provider": self.provider,
            "credits": self.rules.default_price(self.credits),
            "accepted_inputs": list(self.accepted_inputs),
            "max_inputs": self.max_inputs,
            "outputs": self.outputs,
            "params": self.rules.public(),
        }


class Catalog:
    """Models by id, validated once at start-up."""

    def __init__(self, models: Iterable[CatalogModel]) -> None:
        self._models = {m.id: m for m in models}

    @classmethod
    def from_config(
        cls, entries: Iterable[Mapping[str, Any]], *, offline: bool, allow_local: bool = True
    ) -> Catalog:
        """Build from settings; ``offline`` runs every model on the local provider, and
        without ``allow_local`` (production) the local provider's models are left out."""
        return cls(
            model for entry in entries if (model := _model(entry, offline)).provider != "local" or allow_local
        )

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
        id=str(entry["id"]),
        modality=modality,
        provider=provider,
        provider_model=provider_model,
        credits=credits,
        accepted_inputs=tuple(entry.get("accepted_inputs", ())),
        max_inputs=int(entry.get("max_inputs", 0)),
        rules=parse_rules(str(entry["id"]), entry, credits),
    )
