"""A product: one sku as listed on one channel of a tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

ProductStatus = Literal["active", "paused", "delisted"]


@dataclass(frozen=True, slots=True)
class Product:
    channel: str
    sku: str
    title: str | None
    price: Decimal | None
    quantity: int
    status: ProductStatus
    listed_date: datetime
    last_sold_at: datetime | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.sku)
