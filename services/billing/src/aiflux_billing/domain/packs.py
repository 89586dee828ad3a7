"""Credit packs: what a user can buy, as configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CreditPack(BaseModel):
    """A pack of credits sold for a fixed price (``amount`` in minor units of ``currency``)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    name: str
    credits: int = Field(gt=0)
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[a-z]{3}$")


def default_packs() -> list[CreditPack]:
    """The packs on sale when none are configured."""
    return [
        CreditPack(id="starter", name="Starter", credits=100, amount=999, currency="eur"),
        CreditPack(id="pro", name="Pro", credits=500, amount=3999, currency="eur"),
        CreditPack(id="studio", name="Studio", credits=1500, amount=9999, currency="eur"),
    ]
