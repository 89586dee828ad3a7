"""The five services, by name: their settings classes and builders."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiflux_kit.service import Platform, ServiceUnit
    from aiflux_kit.settings import ServiceSettings

SERVICES = ("identity", "billing", "generation", "storage", "privacy")


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class of ``service``."""
    module = importlib.import_module(f"aiflux_{service}.settings")
    cls: type[ServiceSettings] = getattr(module, f"{service.capitalize()}Settings")
    return cls


def builder(service: str) -> Callable[[Platform, Any], ServiceUnit]:
    """``aiflux_<service>.bootstrap.build``."""
    module = importlib.import_module(f"aiflux_{service}.bootstrap")
    build: Callable[[Platform, Any], ServiceUnit] = module.build
    return build


def check_service(service: str) -> str:
    """``service`` if it is one of ours, else a clear error."""
    if service not in SERVICES:
        raise SystemExit(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    return service
