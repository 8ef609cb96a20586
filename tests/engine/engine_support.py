"""Helpers shared by the engine tests: configs from small dicts, feeds from text."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from relay_normalize.domain import NormalizedFeed, normalize_feed
from relay_pricing.adapters.normalized_offers import vendor_feed
from relay_pricing.domain import FeedInput, RunOutputs, VendorFeed, build_run_outputs
from relay_shared.tenant_config import TenantConfig, parse_tenant_config
from relay_shared.vendor_report import VendorReport

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
COLUMN_MAP = {
    "sku": "SKU",
    "quantity_available": "QTY",
    "cost": "COST",
    "map_price": "MAP",
    "msrp": "MSRP",
    "lead_time_days": "LEAD",
    "condition": "COND",
    "brand": "BRAND",
    "title": "TITLE",
    "updated_at": "UPDATED",
}
HEADER = "SKU,QTY,COST,MAP,MSRP,LEAD,COND,BRAND,TITLE,UPDATED"


def vendor(vendor_id: str = "v1", **overrides: Any) -> dict[str, Any]:
    parser = {"format": "csv", "column_map": dict(COLUMN_MAP)}
    parser.update(overrides.pop("parser", {}))
    return {"vendor_id": vendor_id, "parser": parser, **overrides}


def config_data(vendors: list[dict[str, Any]] | None = None, **sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tenant_id": "t1",
        "vendors": vendors or [vendor()],
        "pricing": {"base_margin_pct": "0.20"},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return copy.deepcopy(data)


def make_config(vendors: list[dict[str, Any]] | None = None, **sections: Any) -> TenantConfig:
    return parse_tenant_config(config_data(vendors, **sections))


def csv_feed(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def normalize(
    raw: bytes,
    config: TenantConfig | None = None,
    *,
    vendor_id: str = "v1",
    sku_map: bytes | None = None,
) -> NormalizedFeed:
    return normalize_feed(
        raw, config=config or make_config(), vendor_id=vendor_id, as_of=AS_OF, sku_map=sku_map
    )


def normalized_rows(feed: NormalizedFeed) -> list[list[str]]:
    """The normalized CSV's data rows split on commas (tests avoid commas in values)."""
    assert feed.normalized_csv is not None
    lines = feed.normalized_csv.decode("utf-8").splitlines()
    return [line.split(",") for line in lines[1:]]


def codes(feed: NormalizedFeed) -> list[tuple[int | None, str | None, str]]:
    return [(item.row, item.column, item.code) for item in feed.findings]


def to_input(feed: NormalizedFeed) -> VendorFeed:
    """The feed as the services hand it over: its report, and its rows read from the CSV."""
    return vendor_feed(VendorReport.model_validate(feed.report()), feed.normalized_csv)


def run(
    config: TenantConfig,
    feeds: Mapping[str, bytes | None],
    *,
    sku_maps: dict[str, bytes] | None = None,
) -> RunOutputs:
    """Normalizes each given feed (``None`` = missing) and builds the run's files."""
    inputs: dict[str, FeedInput] = {}
    for vendor_id, raw in feeds.items():
        if raw is None:
            inputs[vendor_id] = "missing"
        else:
            feed = normalize(
                raw, config, vendor_id=vendor_id, sku_map=(sku_maps or {}).get(vendor_id)
            )
            inputs[vendor_id] = to_input(feed)
    return build_run_outputs(
        config,
        run_id="r1",
        as_of=AS_OF,
        config_version=7,
        feeds=inputs,
        timings_ms={"normalize": 1},
    )


def merged_lines(outputs: RunOutputs) -> list[str]:
    return outputs.files["merged_inventory.csv"].decode("utf-8").splitlines()


def summary(outputs: RunOutputs) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(outputs.files["run_summary.json"])
    return result


def errors(outputs: RunOutputs) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(outputs.files["errors.json"])
    return result
