"""Pydantic models of a tenant's feed configuration (spec: feed-engine.md, "Tenant config").

Every model refuses unknown keys so a typo cannot pass silently. Money and percentages are
``Decimal`` (a YAML ``9.99`` becomes ``Decimal("9.99")``, never a binary float in arithmetic).
Cross-field rules that need the whole config (unique vendor ids, ``merge.priority`` naming
known vendors, ``gross_margin`` below 100 %) live in :mod:`.validation` so that every problem
is reported with its own path.

Decisions where the spec is silent:
- ``parser.defaults`` values may be written as text or whole numbers; they are kept as text
  and cleaned like a cell of the feed.
- ``output.columns`` must name canonical fields (plus ``price``), without repeats.
- ``inbound`` (bucket drops, or pulls over https/sftp on a schedule) is described in
  :mod:`.inbound`; the ingest service owns its meaning.

Hostile input (a config is written by a tenant owner, read by every service):
- ids have the shapes of :mod:`relay_shared.identifiers` (a vendor id becomes part of S3
  keys and file names: ``../x`` is refused);
- ``parser.encoding`` is one of :data:`TEXT_ENCODINGS` (a codec such as ``bz2_codec`` would
  decompress a small upload into gigabytes);
- every number is bounded (money to :data:`MAX_MONEY`, percentages, rows, days), so no
  later arithmetic overflows or loses precision;
- S3 keys and prefixes must lie under the tenant's own prefix (checked in
  :mod:`.validation`, where the tenant id is known).
"""

from __future__ import annotations

import codecs
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from relay_shared.identifiers import (
    CHANNEL_PATTERN,
    TENANT_ID_PATTERN,
    VENDOR_ID_PATTERN,
    matches,
)
from relay_shared.tenant_config.bounds import (
    MAX_DAYS,
    MAX_HEADER_ROW,
    MAX_PCT,
    MAX_QUANTITY,
    TEXT_ENCODINGS,
    Text,
    check_bounded,
    check_cents,
    is_text_encoding,
)
from relay_shared.tenant_config.guard import GuardConfig
from relay_shared.tenant_config.inbound import InboundConfig
from relay_shared.tenant_config.schedule import ScheduleConfig

CanonicalField = Literal[
    "sku",
    "vendor_sku",
    "quantity_available",
    "lead_time_days",
    "cost",
    "map_price",
    "msrp",
    "condition",
    "brand",
    "title",
    "updated_at",
]
# The columns of a vendor's normalized CSV, in order: the canonical fields with vendor_id
# after vendor_sku. The one spelling of that list for normalize and pricing.
NORMALIZED_COLUMNS: tuple[str, ...] = (
    *get_args(CanonicalField)[:2],
    "vendor_id",
    *get_args(CanonicalField)[2:],
)
# The money fields (integer cents inside the engine, two-decimal text in files); the merged
# output adds its price.
MONEY_FIELDS: tuple[str, ...] = ("cost", "map_price", "msrp")
OUTPUT_MONEY_COLUMNS: frozenset[str] = frozenset({*MONEY_FIELDS, "price"})

OutputColumn = Literal[
    "sku",
    "vendor_sku",
    "vendor_id",
    "quantity_available",
    "lead_time_days",
    "cost",
    "map_price",
    "price",
    "msrp",
    "condition",
    "brand",
    "title",
    "updated_at",
]
#: ``output.full_every``: at most this many runs between two full snapshots of a delta feed.
MAX_FULL_EVERY = 1000
Condition = Literal["new", "used", "refurb"]
SortKey = Literal["in_stock_desc", "lowest_landed_cost", "shortest_lead_time", "vendor_priority"]

DEFAULT_OUTPUT_COLUMNS: list[OutputColumn] = [
    "sku",
    "quantity_available",
    "price",
    "vendor_id",
    "updated_at",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParserConfig(_Model):
    format: Literal["csv", "xlsx", "json", "jsonl"] = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    decimal_separator: Literal[".", ","] = "."
    header_row: int = Field(default=1, ge=1, le=MAX_HEADER_ROW)
    sheet: str | int | None = None
    column_map: dict[CanonicalField, Text]
    defaults: dict[CanonicalField, str | int] = Field(default_factory=dict)
    condition_map: dict[Text, Condition] = Field(default_factory=dict)
    quantity_words: dict[Text, int] = Field(default_factory=dict)

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("must be one character")
        if value in {'"', "\r", "\n"}:
            raise ValueError("must not be a quote or a line break")
        return value

    @field_validator("encoding")
    @classmethod
    def _text_codec(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value[:40]!r}") from exc
        if not is_text_encoding(value):
            raise ValueError(
                f"{value[:40]!r} is not a supported text encoding (one of:"
                f" {', '.join(sorted(TEXT_ENCODINGS))})"
            )
        return value

    @field_validator("sheet")
    @classmethod
    def _sheet_index(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and value < 0:
            raise ValueError("a sheet index is 0-based and must not be negative")
        check_bounded(value)
        return value

    @field_validator("defaults")
    @classmethod
    def _bounded_defaults(
        cls, value: dict[CanonicalField, str | int]
    ) -> dict[CanonicalField, str | int]:
        for item in value.values():
            check_bounded(item)
        return value

    @field_validator("column_map")
    @classmethod
    def _identity_and_quantity(cls, value: dict[CanonicalField, str]) -> dict[CanonicalField, str]:
        if "sku" not in value and "vendor_sku" not in value:
            raise ValueError("must map sku or vendor_sku")
        if "quantity_available" not in value:
            raise ValueError("must map quantity_available")
        for key, header in value.items():
            if not header.strip():
                raise ValueError(f"the header for {key} must not be empty")
        return value

    @field_validator("quantity_words")
    @classmethod
    def _words_not_negative(cls, value: dict[str, int]) -> dict[str, int]:
        if any(number < 0 or number > MAX_QUANTITY for number in value.values()):
            raise ValueError(f"quantities must be from 0 to {MAX_QUANTITY}")
        return value


class SkuMapConfig(_Model):
    type: Literal["file", "inline"] = "file"
    path: Text | None = None
    s3_key: Text | None = None
    entries: dict[Text, Text] | None = None
    on_missing: Literal["passthrough", "reject"] = "passthrough"


class VendorConfig(_Model):
    vendor_id: str = Field(min_length=1)
    required: bool = True
    currency: str | None = None
    shipping_handling_flat: Decimal | None = None
    inbound: InboundConfig | None = None
    parser: ParserConfig
    sku_map: SkuMapConfig | None = None
    freshness_max_age_h: Decimal | None = Field(default=None, gt=0, le=MAX_DAYS * 24)

    @field_validator("vendor_id")
    @classmethod
    def _vendor_id(cls, value: str) -> str:
        if not matches(VENDOR_ID_PATTERN, value):
            raise ValueError(
                "a vendor id is 1-64 letters, digits, '_', '-' or '.', starting with a letter"
                " or a digit"
            )
        return value

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str | None) -> str | None:
        return None if value is None else _iso_currency(value)

    @field_validator("shipping_handling_flat")
    @classmethod
    def _money(cls, value: Decimal | None) -> Decimal | None:
        return check_cents(value)


class MapPolicyConfig(_Model):
    enforce: bool = True
    map_floor_behavior: Literal["max(price, map_price)"] = "max(price, map_price)"


class RoundingConfig(_Model):
    mode: Literal["none", "nearest", "up", "down"] = "none"
    increment: Decimal = Decimal("0.99")

    @field_validator("increment")
    @classmethod
    def _cents_ending(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0 or value > Decimal("0.99"):
            raise ValueError("must be between 0.00 and 0.99")
        if value != value.quantize(Decimal("0.01")):
            raise ValueError("must have at most two decimals")
        return value


class PricingConfig(_Model):
    base_margin_pct: Decimal
    margin_basis: Literal["markup", "gross_margin"] = "markup"
    min_price: Decimal = Decimal("0.00")
    max_price: Decimal | None = None
    shipping_handling_flat: Decimal = Decimal("0.00")
    map_policy: MapPolicyConfig = Field(default_factory=MapPolicyConfig)
    rounding: RoundingConfig = Field(default_factory=RoundingConfig)

    @field_validator("base_margin_pct")
    @classmethod
    def _pct(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0 or value > MAX_PCT:
            raise ValueError(f"must be from 0 to {MAX_PCT}")
        return value

    @field_validator("min_price", "max_price", "shipping_handling_flat")
    @classmethod
    def _money(cls, value: Decimal | None) -> Decimal | None:
        return check_cents(value)


class LandedCostConfig(_Model):
    include_shipping_handling: bool = True


class BestOfferConfig(_Model):
    sort_by: list[SortKey] = Field(
        default_factory=lambda: ["in_stock_desc", "lowest_landed_cost"]  # type: ignore[arg-type]
    )
    landed_cost: LandedCostConfig = Field(default_factory=LandedCostConfig)
    fallback_lead_time_days: int | None = Field(default=None, ge=0, le=MAX_DAYS)


class MergeConfig(_Model):
    strategy: Literal["best_offer", "priority"] = "best_offer"
    priority: list[Text] = Field(default_factory=list)
    quantity_policy: Literal["chosen", "sum_in_stock"] = "chosen"
    best_offer: BestOfferConfig = Field(default_factory=BestOfferConfig)


class ErrorPolicyConfig(_Model):
    max_invalid_row_pct: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)


class SkuConfig(_Model):
    case: Literal["upper", "preserve"] = "upper"


class OutputConfig(_Model):
    format: Literal["csv", "json"] = "csv"
    columns: list[OutputColumn] = Field(
        default_factory=lambda: list(DEFAULT_OUTPUT_COLUMNS), min_length=1
    )
    # ``delta``: a run's merged_inventory is only the rows that changed since the previous
    # successful run (a ``change`` column: added, changed, removed), with a full snapshot every
    # ``full_every`` runs (and on a run requested with ``full``); pricing: domain/delta.py.
    mode: Literal["full", "delta"] = "full"
    full_every: int = Field(default=7, ge=1, le=MAX_FULL_EVERY)

    @field_validator("columns")
    @classmethod
    def _no_repeats(cls, value: list[OutputColumn]) -> list[OutputColumn]:
        if len(set(value)) != len(value):
            raise ValueError("a column must not be listed twice")
        return value


class ShipstationConfig(_Model):
    """The ``shipstation`` section: the webhook token and V1 API credentials (sealed when
    stored) and which ShipStation store is which channel."""

    webhook_token: Annotated[str, StringConstraints(max_length=4096)] | None = None
    api_key: Annotated[str, StringConstraints(max_length=4096)] | None = None
    api_secret: Annotated[str, StringConstraints(max_length=4096)] | None = None
    store_channels: dict[Annotated[str, StringConstraints(max_length=64)], str] = Field(
        default_factory=dict
    )

    @field_validator("store_channels")
    @classmethod
    def _channel_names(cls, value: dict[str, str]) -> dict[str, str]:
        for store, channel in value.items():
            if not matches(CHANNEL_PATTERN, channel):
                raise ValueError(f"store {store!r}: {channel[:40]!r} is not a channel name")
        return value


class TenantConfig(_Model):
    schema_version: Literal[1] = 1
    tenant_id: str = Field(min_length=1, pattern=TENANT_ID_PATTERN)
    timezone: Text = "UTC"
    default_currency: str = "USD"
    config_version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    vendors: list[VendorConfig] = Field(min_length=1)
    pricing: PricingConfig
    merge: MergeConfig = Field(default_factory=MergeConfig)
    error_policy: ErrorPolicyConfig = Field(default_factory=ErrorPolicyConfig)
    sku: SkuConfig = Field(default_factory=SkuConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    shipstation: ShipstationConfig | None = None
    schedule: ScheduleConfig | None = None
    guard: GuardConfig | None = None
    channels: dict[str, Any] | None = None
    insights: dict[str, Any] | None = None
    sheets: dict[str, Any] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        return _iso_currency(value)

    def vendor(self, vendor_id: str) -> VendorConfig:
        """The vendor with this id; ``KeyError`` when the config has none."""
        for vendor in self.vendors:
            if vendor.vendor_id == vendor_id:
                return vendor
        raise KeyError(vendor_id)

    def vendor_currency(self, vendor: VendorConfig) -> str:
        return vendor.currency or self.default_currency

    def vendor_shipping_handling(self, vendor: VendorConfig) -> Decimal:
        if vendor.shipping_handling_flat is not None:
            return vendor.shipping_handling_flat
        return self.pricing.shipping_handling_flat


def _iso_currency(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise ValueError("must be a three-letter ISO 4217 code")
    return value.upper()
