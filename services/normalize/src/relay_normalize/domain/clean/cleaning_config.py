"""What the cleaning of one vendor's feed depends on, resolved from the tenant config.

Decision where the spec is silent: with a SKU map given as bytes, they are used even when the
config has none or an inline one (``local-run --sku-map`` overrides); ``on_missing`` then
comes from the config or is ``passthrough``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from relay_normalize.domain.clean.sku_map import (
    SkuMap,
    SkuMapError,
    check_inline_map,
    parse_sku_map,
)
from relay_normalize.domain.findings import feed_failure
from relay_shared.run_reports import format_utc
from relay_shared.tenant_config import TenantConfig, VendorConfig


@dataclass(frozen=True, slots=True)
class CleaningConfig:
    """Everything the cleaning of one feed depends on.

    ``mapped`` are the canonical fields of the vendor's ``column_map``: a feed that reaches
    cleaning has a column for each of them (a missing one fails it first).
    """

    vendor_id: str
    currency: str
    decimal_separator: str
    defaults: Mapping[str, str]
    condition_map: Mapping[str, str]
    quantity_words: Mapping[str, int]
    sku_map: SkuMap | None
    reject_unmapped: bool
    upper: bool
    zone: ZoneInfo
    as_of: datetime
    mapped: frozenset[str]

    @property
    def as_of_text(self) -> str:
        return format_utc(self.as_of.replace(microsecond=0))

    @property
    def key_field(self) -> str:
        """The column the SKU map is looked up with: ``vendor_sku`` when mapped, else ``sku``."""
        return "vendor_sku" if "vendor_sku" in self.mapped else "sku"

    @property
    def has_fallback(self) -> bool:
        """Both ``sku`` and ``vendor_sku`` mapped: an unmapped vendor SKU takes the sku cell."""
        return "sku" in self.mapped and "vendor_sku" in self.mapped

    @property
    def has_timestamps(self) -> bool:
        """Whether ``updated_at`` can differ from the as-of time (a column or a default)."""
        return "updated_at" in self.mapped or "updated_at" in self.defaults


def cleaning_config(
    config: TenantConfig, vendor: VendorConfig, as_of: datetime, sku_map: bytes | SkuMap | None
) -> CleaningConfig:
    """The vendor's cleaning settings; :class:`FeedFailure` when its SKU map is unusable."""
    parser = vendor.parser
    on_missing = vendor.sku_map.on_missing if vendor.sku_map else "passthrough"
    return CleaningConfig(
        vendor_id=vendor.vendor_id,
        currency=config.vendor_currency(vendor),
        decimal_separator=parser.decimal_separator,
        defaults={name: str(text) for name, text in parser.defaults.items()},
        condition_map=dict(parser.condition_map),
        quantity_words=dict(parser.quantity_words),
        sku_map=_sku_map(vendor, sku_map),
        reject_unmapped=on_missing == "reject",
        upper=config.sku.case == "upper",
        zone=ZoneInfo(config.timezone),
        as_of=as_of,
        mapped=frozenset(parser.column_map),
    )


def _sku_map(vendor: VendorConfig, sku_map: bytes | SkuMap | None) -> SkuMap | None:
    """The map read from its file's bytes, or already read (a service keeps maps it read)."""
    if isinstance(sku_map, SkuMap):
        return sku_map
    try:
        if sku_map is not None:
            return parse_sku_map(sku_map)
        if vendor.sku_map is None:
            return None
        if vendor.sku_map.type == "inline":
            return check_inline_map(vendor.sku_map.entries or {})
    except SkuMapError as problem:
        raise feed_failure(
            vendor.vendor_id, problem.code, detail=problem.detail, value=problem.value
        ) from problem
    raise feed_failure(
        vendor.vendor_id, "sku_map_unavailable", detail="the configured map file is missing"
    )
