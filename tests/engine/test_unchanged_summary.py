"""A vendor whose feed was skipped as unchanged shows ``unchanged`` in run_summary.json (its
rows are merged as usual); the same run without ``unchanged`` vendors is byte for byte what it
was, and a vendor named unchanged whose feed did not merge keeps its own outcome."""

from __future__ import annotations

import json
from typing import Any

from relay_pricing.domain import FeedInput, build_run_outputs
from relay_pricing.domain.assembly import VendorHandoff, unchanged_vendors
from relay_shared.tenant_config import TenantConfig

from .engine_support import AS_OF, make_config, normalize, to_input, vendor

MAP = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
FEEDS = {"a": b"SKU,QTY,COST\nA,1,10.00\n", "b": b"SKU,QTY,COST\nB,x,5\n"}


def _config() -> TenantConfig:
    return make_config(
        [
            vendor("a", parser={"column_map": MAP}),
            vendor("b", parser={"column_map": MAP}, required=False),
        ]
    )


def _outputs(unchanged: frozenset[str]) -> dict[str, bytes]:
    config = _config()
    inputs: dict[str, FeedInput] = {
        v: to_input(normalize(raw, config, vendor_id=v)) for v, raw in FEEDS.items()
    }
    return build_run_outputs(
        config,
        run_id="r1",
        as_of=AS_OF,
        config_version=7,
        feeds=inputs,
        timings_ms={"load": 1},
        unchanged=unchanged,
    ).files


def test_an_unchanged_vendor_is_unchanged_in_the_summary_and_merged_as_before() -> None:
    plain, marked = _outputs(frozenset()), _outputs(frozenset({"a", "b"}))

    vendors = summary_of(marked)["vendors"]
    assert {v: s["status"] for v, s in vendors.items()} == {"a": "unchanged", "b": "skipped"}
    assert {v: s["status"] for v, s in summary_of(plain)["vendors"].items()} == {
        "a": "ok",
        "b": "skipped",
    }
    assert next(iter(vendors["a"])) == "status"
    assert marked["merged_inventory.csv"] == plain["merged_inventory.csv"]
    assert marked["errors.json"] == plain["errors.json"]


def test_the_unchanged_vendors_are_the_runs_own_unchanged_handoffs() -> None:
    chosen = [
        VendorHandoff("a", "unchanged", "n/a", "f/a", from_this_run=True),
        VendorHandoff("b", "ok", "n/b", "f/b", from_this_run=True),
        VendorHandoff("c", "ok", "n/c", "f/c", from_this_run=False),
        VendorHandoff("d", "missing", None, "", from_this_run=False),
    ]
    assert unchanged_vendors(chosen) == frozenset({"a"})


def summary_of(files: dict[str, bytes]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(files["run_summary.json"])
    return document
