"""Per-model parameter allow-lists and the prices they imply; no I/O.

A catalog entry's ``params`` map names every parameter a user may send, with its type and
range or choices. Anything else is refused before credits are held, so a user cannot ask a
provider for more (more images, longer or sharper video) than the price covers. Parameters that
drive the provider's bill are priced here: ``credits_per_unit`` (an integer parameter: each unit
above or below its default adds or removes that many credits, e.g. per second of video) or
``credits_by_choice`` (extra credits per choice). Count-like provider parameters are pinned by
the entry's ``fixed_params`` (sent as they are and never overridable), and the entry's
``outputs`` is how many results are priced and kept.

Spec keys: ``type`` (``int``, ``number``, ``string``, ``bool``), ``choices``, ``min``, ``max``,
``max_length`` (strings, default 500), ``default``, ``send_as`` (the provider's name for it),
``credits_per_unit``, ``credits_by_choice``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

PARAM_TYPES = ("int", "number", "string", "bool")
SPEC_KEYS = frozenset(
    {
        "type",
        "choices",
        "min",
        "max",
        "max_length",
        "default",
        "send_as",
        "credits_per_unit",
        "credits_by_choice",
    }
)
MAX_STRING = 500
MAX_MODEL_PARAMS = 16


class ParamError(ValueError):
    """A parameter a user sent is not accepted; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class ParamSpec:
    """One accepted parameter."""

    name: str
    type: str
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    default: Any = None
    send_as: str | None = None
    credits_per_unit: int = 0
    credits_by_choice: Mapping[str, int] = field(default_factory=dict)

    def check(self, value: Any) -> Any:
        """``value`` when it is of the right type and in range; else :class:`ParamError`."""
        name = self.name
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ParamError(name, f"{name!r} must be true or false.")
        elif self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParamError(name, f"{name!r} must be a whole number.")
        elif self.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ParamError(name, f"{name!r} must be a number.")
        elif not isinstance(value, str):
            raise ParamError(name, f"{name!r} must be a string.")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise ParamError(name, f"{name!r} must be one of: {allowed}.")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ParamError(name, f"{name!r} must be between {_num(self.min)} and {_num(self.max)}.")
        if isinstance(value, str):
            limit = self.max_length or MAX_STRING
            if len(value) > limit:
                raise ParamError(name, f"{name!r} must have at most {limit} characters.")
            if "\x00" in value:
                raise ParamError(name, f"{name!r} must not contain NUL (U+0000) characters.")
        return value

    @property
    def priced(self) -> bool:
        """True when this parameter changes the price."""
        return bool(self.credits_per_unit or self.credits_by_choice)

    def extra_credits(self, value: Any) -> int:
        """Credits this value adds to (or, below the default, takes off) the base price."""
        if self.credits_per_unit:
            return int(self.credits_per_unit * (value - self.default))
        return int(self.credits_by_choice.get(str(value), 0))

    def public(self) -> dict[str, Any]:
        """What ``GET /v1/models`` shows, so clients can build a form."""
        shown: dict[str, Any] = {"type": self.type}
        for key in ("choices", "min", "max", "default"):
            if (value := getattr(self, key)) is not None:
                shown[key] = list(value) if key == "choices" else value
        if self.type == "string" and self.choices is None:
            shown["max_length"] = self.max_length or MAX_STRING
        if self.credits_per_unit:
            shown["credits_per_unit"] = self.credits_per_unit
        if self.credits_by_choice:
            shown["credits_by_choice"] = dict(self.credits_by_choice)
        return shown


@dataclass(frozen=True)
class ParamRules:
    """A model's accepted parameters, pinned provider parameters and priced output count."""

    specs: Mapping[str, ParamSpec] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    outputs: int = 1

    def validate(self, model_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The params to store: every key checked, priced defaults filled in.

        Raises :class:`ParamError` naming the first unknown or invalid key.
        """
        for key in params:
            if key not in self.specs:
                accepted = ", ".join(sorted(self.specs)) or "none"
                raise ParamError(
                    key, f"{model_id} does not accept the parameter {key!r}; accepted: {accepted}."
                )
        clean = {key: self.specs[key].check(value) for key, value in params.items()}
        for name, spec in self.specs.items():
            if spec.priced and name not in clean:
                clean[name] = spec.default
        return clean

    def price(self, base: int, params: Mapping[str, Any]) -> int:
        """Credits for a job with these (validated) params."""
        total = base + sum(
            spec.extra_credits(params.get(name, spec.default))
            for name, spec in self.specs.items()
            if spec.priced
        )
        return max(total, 0)

    def default_price(self, base: int) -> int:
        """Credits when the user sends no params."""
        return self.price(base, {})

    def for_provider(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """What the provider receives: only accepted, still-valid values (defaults otherwise),
        under the provider's names, with the pinned values last so nothing overrides them."""
        sent: dict[str, Any] = {}
        for name, spec in self.specs.items():
            value = params.get(name, spec.default)
            try:
                value = spec.check(value) if value is not None else None
            except ParamError:
                value = spec.default
            if value is not None:
                sent[spec.send_as or name] = value
        return {**sent, **self.fixed}

    def public(self) -> dict[str, Any]:
        """Accepted params by name, as ``GET /v1/models`` shows them."""
        return {name: spec.public() for name, spec in self.specs.items()}


def parse_rules(model_id: str, entry: Mapping[str, Any], base_credits: int) -> ParamRules:
    """Read and check a catalog entry's ``params``, ``fixed_params`` and ``outputs``; a bad
    entry stops the service at start (``ValueError``)."""

    def bad(message: str) -> ValueError:
        return ValueError(f"catalog entry {model_id!r}: {message}")

    raw = entry.get("params") or {}
    fixed = dict(entry.get("fixed_params") or {})
    if not isinstance(raw, Mapping) or len(raw) > MAX_MODEL_PARAMS:
        raise bad(f"params must be a map of at most {MAX_MODEL_PARAMS} entries")
    specs = {str(name): _spec(str(name), spec, bad) for name, spec in raw.items()}
    for name, value in fixed.items():
        if not isinstance(value, str | int | float | bool):
            raise bad(f"fixed param {name!r} must be a plain value")
    sent_names = [s.send_as or s.name for s in specs.values()]
    if len(set(sent_names)) != len(sent_names) or set(sent_names) & set(fixed):
        raise bad("params and fixed_params must name distinct provider parameters")
    outputs = int(entry.get("outputs", 1))
    if outputs < 1:
        raise bad("outputs must be at least 1")
    rules = ParamRules(specs=specs, fixed=fixed, outputs=outputs)
    lowest = base_credits + sum(
        min(s.extra_credits(v) for v in _extremes(s)) for s in specs.values() if s.priced
    )
    if lowest < 0:
        raise bad("the cheapest parameter choice would cost less than 0 credits")
    return rules


def _spec(name: str, raw: Any, bad: Any) -> ParamSpec:
    if not isinstance(raw, Mapping) or not set(raw) <= SPEC_KEYS:
        raise bad(f"param {name!r}: unknown spec keys (allowed: {', '.join(sorted(SPEC_KEYS))})")
    kind = raw.get("type")
    if kind not in PARAM_TYPES:
        raise bad(f"param {name!r}: type must be one of {', '.join(PARAM_TYPES)}")
    choices = raw.get("choices")
    spec = ParamSpec(
        name=name,
        type=kind,
        choices=tuple(choices) if choices is not None else None,
        min=raw.get("min"),
        max=raw.get("max"),
        max_length=raw.get("max_length"),
        send_as=raw.get("send_as"),
        credits_per_unit=int(raw.get("credits_per_unit", 0)),
        credits_by_choice={str(k): int(v) for k, v in (raw.get("credits_by_choice") or {}).items()},
    )
    try:
        for choice in spec.choices or ():
            spec.check(choice)
        if raw.get("default") is not None:
            spec = replace(spec, default=spec.check(raw["default"]))
    except ParamError as exc:
        raise bad(f"param {name!r}: {exc}") from None
    if any(
        bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float))
        for bound in (spec.min, spec.max)
    ):
        raise bad(f"param {name!r}: min and max must be numbers")
    if spec.type not in ("int", "number") and (spec.min is not None or spec.max is not None):
        raise bad(f"param {name!r}: min and max are for numbers")
    if spec.type != "string" and spec.max_length is not None:
        raise bad(f"param {name!r}: max_length is for strings")
    unbounded = (
        spec.type in ("int", "number") and spec.choices is None and (spec.min is None or spec.max is None)
    )
    if unbounded:
        raise bad(f"param {name!r}: numbers need min and max (or choices)")
    if spec.credits_per_unit and (spec.type != "int" or spec.default is None):
        raise bad(f"param {name!r}: credits_per_unit needs an int param with a default")
    if spec.credits_by_choice and (
        spec.choices is None
        or spec.default is None
        or not set(spec.credits_by_choice) <= {str(c) for c in spec.choices}
    ):
        raise bad(f"param {name!r}: credits_by_choice needs choices, a default, and keys among the choices")
    if spec.credits_per_unit and spec.credits_by_choice:
        raise bad(f"param {name!r}: price by unit or by choice, not both")
    return spec


def _extremes(spec: ParamSpec) -> tuple[Any, ...]:
    if spec.choices is not None:
        return spec.choices
    return tuple(v for v in (spec.min, spec.max) if v is not None)


def _num(value: float | None) -> str:
    return "any" if value is None else str(value)
