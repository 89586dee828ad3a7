"""Tables of the billing service."""

from __future__ import annotations

from aiflux_kit.db import make_base

Base = make_base()
