"""``build_run_outputs``: every output file of a run from the vendors' normalized feeds.

Decisions where the spec is silent:
- a missing optional feed reports only the warning ``vendor_skipped`` (value
  ``missing_feed``); a missing required one the error ``missing_feed``.
- a vendor's ``warnings`` count is its feed's row warnings; ``vendor_skipped`` and
  ``missing_feed`` are run-level items and not counted there.
- a run whose every vendor was skipped succeeds with an empty inventory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from relay_pricing.domain import merged_output, reports
from relay_pricing.domain.merge import VendorOffers, merge_offers
from relay_pricing.domain.money import to_cents
from relay_pricing.domain.pricing_frame import raw_price_column, with_price
from relay_pricing.domain.rounding import PriceRule
from relay_shared.tenant_config import TenantConfig

MISSING: Literal["missing"] = "missing"


@dataclass(frozen=True, slots=True)
class VendorFeed:
    """What normalize handed over for one vendor: its report and normalized CSV (the bytes,
    or the file holding them)."""

    status: Literal["ok", "failed"]
    stats: Mapping[str, Any]
    errors: Sequence[Mapping[str, Any]] = ()
    warnings: Sequence[Mapping[str, Any]] = ()
    normalized_csv: bytes | Path | None = None
    failure_code: str | None = None
    offers: pl.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def has_offers(self) -> bool:
        """The normalized rows are at hand (as a CSV, or as normalize's frame)."""
        return self.normalized_csv is not None or self.offers is not None

    @classmethod
    def from_report(
        cls,
        report: Mapping[str, Any],
        normalized_csv: bytes | Path | None,
        offers: pl.DataFrame | None = None,
    ) -> VendorFeed:
        """From normalize's JSON report (``NormalizedFeed.report()``) and the CSV;
        ``offers`` is normalize's typed frame of the rows when it is at hand (local-run),
        and then stands for the CSV (which may be ``None``)."""
        return cls(
            status=report["status"],
            stats=report["stats"],
            errors=report.get("errors", []),
            warnings=report.get("warnings", []),
            normalized_csv=normalized_csv,
            failure_code=report.get("failure_code"),
            offers=offers,
        )


FeedInput = VendorFeed | Literal["missing"]


@dataclass(frozen=True, slots=True)
class RunOutputs:
    """Output files by relative name, and the run's outcome."""

    files: dict[str, bytes]
    status: Literal["succeeded", "failed"]
    merged_rows: int
    skus_left_out: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Assembly:
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    vendors: dict[str, dict[str, Any]] = field(default_factory=dict)
    usable: list[VendorOffers] = field(default_factory=list)
    failed: bool = False


def format_as_of(as_of: datetime) -> str:
    moment = as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_run_outputs(
    config: TenantConfig,
    *,
    run_id: str,
    as_of: datetime,
    config_version: int | None,
    feeds: Mapping[str, FeedInput],
    timings_ms: Mapping[str, int],
) -> RunOutputs:
    """Merges, prices and reports a run. Pure; the only non-deterministic input is ``timings_ms``.

    ``feeds`` maps vendor_id → :class:`VendorFeed` or ``"missing"``; a configured vendor absent
    from it counts as missing. Returns ``merged_inventory.csv`` (+ ``.json`` with
    ``output.format: json``), ``errors.json`` and ``run_summary.json``; a failed run returns
    only the last two. Raises ``ValueError`` for a vendor that is not in the config.
    """
    unknown = sorted(set(feeds) - {vendor.vendor_id for vendor in config.vendors})
    if unknown:
        raise ValueError(f"vendors not in the config: {', '.join(unknown)}")
    assembly = _assemble(config, feeds)
    files: dict[str, bytes] = {}
    merged_rows, left_out = 0, list[str]()
    if not assembly.failed:
        frame, left_out = _priced_inventory(config, assembly.usable)
        merged_rows = frame.height
        files["merged_inventory.csv"] = merged_output.merged_csv(frame)
        if config.output.format == "json":
            files["merged_inventory.json"] = merged_output.merged_json(frame)
    files["errors.json"] = reports.errors_document(assembly.errors, assembly.warnings)
    status: Literal["succeeded", "failed"] = "failed" if assembly.failed else "succeeded"
    files["run_summary.json"] = reports.summary_document(
        run_id=run_id,
        tenant_id=config.tenant_id,
        config_version=config_version,
        as_of=format_as_of(as_of),
        status=status,
        vendors=assembly.vendors,
        merged_rows=merged_rows,
        skus_left_out=left_out,
        timings_ms=timings_ms,
    )
    return RunOutputs(files, status, merged_rows, left_out)


def _assemble(config: TenantConfig, feeds: Mapping[str, FeedInput]) -> _Assembly:
    assembly = _Assembly()
    for vendor in config.vendors:
        feed = feeds.get(vendor.vendor_id, MISSING)
        vendor_id = vendor.vendor_id
        errors: list[Mapping[str, Any]] = []
        warnings: list[Mapping[str, Any]] = []
        stats: Mapping[str, Any] | None = None
        cause = "missing_feed"
        if isinstance(feed, VendorFeed):
            cause, stats = feed.failure_code or "feed_failed", feed.stats
            errors.extend(feed.errors)
            warnings.extend(feed.warnings)
        elif vendor.required:
            errors.append(reports.item(vendor_id, cause, "the vendor's feed is missing"))
        if isinstance(feed, VendorFeed) and feed.status == "ok" and feed.has_offers:
            surcharge = to_cents(config.vendor_shipping_handling(vendor))
            offers = VendorOffers(vendor_id, feed.normalized_csv, surcharge, feed.offers)
            assembly.usable.append(offers)
            status = "ok"
        elif vendor.required:
            status, assembly.failed = "failed", True
        else:
            status = "skipped"
            message = f"the optional vendor was skipped ({cause})"
            warnings.insert(0, reports.item(vendor_id, "vendor_skipped", message, value=cause))
        assembly.errors.extend(reports.in_report_order(errors))
        assembly.warnings.extend(reports.in_report_order(warnings))
        assembly.vendors[vendor_id] = reports.vendor_entry(status, stats)
    return assembly


def _priced_inventory(
    config: TenantConfig, usable: Sequence[VendorOffers]
) -> tuple[pl.DataFrame, list[str]]:
    columns = list(config.output.columns)
    merged = merge_offers(usable, config.merge, columns)
    if merged.offers.height == 0:
        return merged_output.empty_frame(columns), merged.skus_left_out
    rule = PriceRule.from_config(config.pricing)
    offers = merged.offers.with_columns(raw_price_column(merged.offers, "landed", rule))
    priced = with_price(offers.lazy(), "raw", "map_price", rule)
    return merged_output.output_frame(priced, columns), merged.skus_left_out
