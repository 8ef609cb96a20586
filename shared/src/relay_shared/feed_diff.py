"""The summary of the diff from one merged feed to another: computed by pricing
(:mod:`relay_pricing.domain.feed_diff`, whose docstring says what each figure counts) for a
config preview and ``relay local-run --compare-to``, read by the gateway to answer
``GET …/previews/{id}`` and to guard an activation (``config.guard``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Spread(BaseModel):
    model_config = ConfigDict(frozen=True)

    min: float
    p50: float
    p95: float
    max: float


class CentsSpread(BaseModel):
    model_config = ConfigDict(frozen=True)

    min: int
    p50: int
    p95: int
    max: int


class PriceChanges(BaseModel):
    """The distribution of the price changes: ``count`` SKUs, in cents and in percent."""

    model_config = ConfigDict(frozen=True)

    count: int
    cents: CentsSpread | None
    pct: Spread | None


class VendorWins(BaseModel):
    model_config = ConfigDict(frozen=True)

    before: int
    after: int
    delta: int


class LargeChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    old_price: str
    new_price: str
    change_cents: int
    change_pct: float | None
    old_vendor: str | None
    new_vendor: str | None


class FeedDiff(BaseModel):
    """The summary of the diff from one merged feed to another."""

    model_config = ConfigDict(frozen=True)

    rows_before: int
    rows_after: int
    added: int
    removed: int
    changed: int
    unchanged: int
    columns_changed: dict[str, int]
    price_changes: PriceChanges
    to_out_of_stock: int
    back_in_stock: int
    vendor_wins: dict[str, VendorWins]
    largest: list[LargeChange]


class PreviewReport(BaseModel):
    """A config preview's report (``preview_report.json`` under the preview run's reports):
    the diff of its merged feed against ``base_run_id``'s (None: the tenant had no successful
    run, so every SKU is added)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    base_run_id: str | None
    diff: FeedDiff
