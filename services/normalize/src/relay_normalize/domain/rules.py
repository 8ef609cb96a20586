"""The cleaning settings of one vendor's feed, resolved from the tenant config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from relay_normalize.domain.cleaning import format_utc

FIELD_ORDER = (
    "sku",
    "quantity_available",
    "cost",
    "map_price",
    "msrp",
    "lead_time_days",
    "condition",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class CleaningRules:
    """Everything the cleaning of one feed depends on."""

    vendor_id: str
    currency: str
    decimal_separator: str
    defaults: Mapping[str, str]
    condition_map: Mapping[str, str]
    quantity_words: Mapping[str, int]
    sku_map: Mapping[str, str] | None
    reject_unmapped: bool
    upper: bool
    zone: ZoneInfo
    as_of: datetime

    @property
    def as_of_text(self) -> str:
        return format_utc(self.as_of.replace(microsecond=0))
