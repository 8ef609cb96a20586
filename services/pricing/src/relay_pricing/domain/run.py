"""``build_run_outputs``: every output file of a run from the vendors' normalized feeds.

Decisions where the spec is silent:
- a missing optional feed reports only the warning ``vendor_skipped`` (value
  ``missing_feed``); a missing required one the error ``missing_feed``.
- a vendor's ``warnings`` count is its feed's row warnings; ``vendor_skipped`` and
  ``missing_feed`` are run-level items and not counted there.
- a run whose every vendor was skipped succeeds with an empty inventory.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import polars as pl

from relay_pricing.domain import merged_output
from relay_pricing.domain.explain import ExplainParts, explain_index
from relay_pricing.domain.merge import VendorOffers, merge_offers
from relay_pricing.domain.money import to_cents
from relay_pricing.domain.pricing_frame import raw_price_column, with_price
from relay_pricing.domain.reports import in_report_order, summary_status, vendor_summary
from relay_pricing.domain.rounding import PriceRule
from relay_shared.events import VendorCounts
from relay_shared.explain.index_format import ExplainIndex
from relay_shared.findings import Finding
from relay_shared.run_reports import ErrorsReport, RunSummary, VendorSummary
from relay_shared.tenant_config import TenantConfig
from relay_shared.vendor_report import VendorReport

MISSING: Literal["missing"] = "missing"


@dataclass(frozen=True, slots=True)
class VendorFeed:
    """What normalize handed over for one vendor: its report and, for a feed that is ok, its
    typed offers (:mod:`relay_pricing.domain.merge`): normalize's own frame (``relay
    local-run``) or the frame read from the CSV it stored (the services). A feed whose report
    is ``ok`` but comes without offers is not usable (its vendor counts as failed)."""

    report: VendorReport
    offers: pl.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> Literal["ok", "failed", "missing"]:
        return self.report.status


FeedInput = VendorFeed | Literal["missing"]


@dataclass(frozen=True, slots=True)
class RunOutputs:
    """The run's two reports, and every output file by relative name (the reports' too)."""

    summary: RunSummary
    errors: ErrorsReport
    files: dict[str, bytes]
    #: the run's explain index (:mod:`relay_pricing.domain.explain`), when asked for
    explain: ExplainIndex | None = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> Literal["succeeded", "failed"]:
        return self.summary.status

    @property
    def merged_rows(self) -> int:
        return self.summary.merged_rows

    @property
    def skus_left_out(self) -> list[str]:
        return self.summary.skus_left_out


@dataclass(slots=True)
class _Assembly:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    vendors: dict[str, VendorSummary] = field(default_factory=dict)
    usable: list[VendorOffers] = field(default_factory=list)
    failed: bool = False


def build_run_outputs(
    config: TenantConfig,
    *,
    run_id: str,
    as_of: datetime,
    config_version: int | None,
    feeds: Mapping[str, FeedInput],
    timings_ms: Mapping[str, int],
    explain: bool = True,
    unchanged: Collection[str] = (),
) -> RunOutputs:
    """Merges, prices and reports a run. Pure; the only non-deterministic input is ``timings_ms``.

    ``feeds`` maps vendor_id → :class:`VendorFeed` or ``"missing"``; a configured vendor absent
    from it (or whose report says ``missing``) counts as missing. Returns
    ``merged_inventory.csv`` (+ ``.json`` with ``output.format: json``), ``errors.json`` and
    ``run_summary.json``; a failed run returns only the last two. Raises ``ValueError`` for a
    vendor that is not in the config. A vendor in ``unchanged`` (its feed was not normalized
    again) that is merged shows as ``unchanged`` in the summary. With ``explain`` a run
    that succeeds also returns its explain index (``RunOutputs.explain``, not a file).
    """
    unknown = sorted(set(feeds) - {vendor.vendor_id for vendor in config.vendors})
    if unknown:
        raise ValueError(f"vendors not in the config: {', '.join(unknown)}")
    assembly = _assemble(config, feeds, unchanged)
    files: dict[str, bytes] = {}
    merged_rows, left_out = 0, list[str]()
    index: ExplainIndex | None = None
    if not assembly.failed:
        frame, left_out, parts = _priced_inventory(config, assembly.usable, explain)
        if parts is not None:
            index = explain_index(config, parts, run_id=run_id, config_version=config_version)
        merged_rows = frame.height
        files["merged_inventory.csv"] = merged_output.merged_csv(frame)
        if config.output.format == "json":
            files["merged_inventory.json"] = merged_output.merged_json(frame)
    errors = ErrorsReport(errors=assembly.errors, warnings=assembly.warnings)
    summary = RunSummary(
        run_id=run_id,
        tenant_id=config.tenant_id,
        config_version=config_version,
        as_of=as_of,
        status="failed" if assembly.failed else "succeeded",
        vendors=assembly.vendors,
        merged_rows=merged_rows,
        skus_left_out=left_out,
        timings_ms=dict(timings_ms),
    )
    files["errors.json"] = errors.to_json_bytes()
    files["run_summary.json"] = summary.to_json_bytes()
    return RunOutputs(summary, errors, files, index)


def _assemble(
    config: TenantConfig, feeds: Mapping[str, FeedInput], unchanged: Collection[str]
) -> _Assembly:
    assembly = _Assembly()
    for vendor in config.vendors:
        vendor_id = vendor.vendor_id
        feed = feeds.get(vendor_id, MISSING)
        if isinstance(feed, VendorFeed) and feed.status == "missing":
            feed = MISSING
        errors: list[Finding] = []
        warnings: list[Finding] = []
        counts: VendorCounts | None = None
        cause = "missing_feed"
        if isinstance(feed, VendorFeed):
            cause, counts = feed.report.failure_code or "feed_failed", feed.report.stats
            errors.extend(feed.report.errors)
            warnings.extend(feed.report.warnings)
        elif vendor.required:
            errors.append(Finding.feed_level(vendor_id, cause, "the vendor's feed is missing"))
        status: Literal["ok", "failed", "skipped"]
        if isinstance(feed, VendorFeed) and feed.status == "ok" and feed.offers is not None:
            surcharge = to_cents(config.vendor_shipping_handling(vendor))
            assembly.usable.append(VendorOffers(vendor_id, feed.offers, surcharge))
            status = "ok"
        elif vendor.required:
            status, assembly.failed = "failed", True
        else:
            status = "skipped"
            message = f"the optional vendor was skipped ({cause})"
            skipped = Finding.feed_level(vendor_id, "vendor_skipped", message, value=cause)
            warnings.insert(0, skipped)
        assembly.errors.extend(in_report_order(errors))
        assembly.warnings.extend(in_report_order(warnings))
        assembly.vendors[vendor_id] = vendor_summary(
            summary_status(vendor_id, status, unchanged), counts
        )
    return assembly


def _priced_inventory(
    config: TenantConfig, usable: Sequence[VendorOffers], explain: bool
) -> tuple[pl.DataFrame, list[str], ExplainParts | None]:
    """The priced inventory, the left-out SKUs and, with ``explain``, what the run's explain
    index is built from (the ranked offers; the priced winners with their step columns)."""
    columns = list(config.output.columns)
    merged = merge_offers(usable, config.merge, columns, keep_ranked=explain)
    ranked = merged.ranked
    if merged.offers.height == 0:
        parts = None if ranked is None else ExplainParts(ranked, None, merged.skus_left_out)
        return merged_output.empty_frame(columns), merged.skus_left_out, parts
    rule = PriceRule.from_config(config.pricing)
    offers = merged.offers.with_columns(raw_price_column(merged.offers, "landed", rule))
    priced = with_price(offers.lazy(), "raw", "map_price", rule, steps=explain)
    if ranked is None:
        return merged_output.output_frame(priced, columns), merged.skus_left_out, None
    stepped = priced.collect()
    parts = ExplainParts(ranked, stepped, merged.skus_left_out)
    return merged_output.output_frame(stepped, columns), merged.skus_left_out, parts
