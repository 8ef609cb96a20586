"""The merge's two hand-offs give the same bytes: normalize's typed frame (``relay local-run``)
and the normalized CSV (the services, through S3). Also: errors.json's fast item writer."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path

import pytest

from relay_cli.local_run_args import LocalRun, parse_arguments
from relay_cli.local_run_inputs import resolve_run
from relay_normalize.domain import NormalizedFeed, normalize_feed, offers_csv
from relay_pricing.domain import FeedInput, RunOutputs, VendorFeed, build_run_outputs
from relay_pricing.domain.drift import FeedStats
from relay_pricing.domain.merge import VendorOffers, read_normalized
from relay_pricing.domain.reports import errors_document
from relay_shared.tenant_config import TenantConfig

from ..golden.golden_cases import CASES, ROOT
from .engine_support import AS_OF, csv_feed, make_config, normalize, vendor


def _outputs(
    config: TenantConfig, normalized: Mapping[str, NormalizedFeed], *, in_memory: bool
) -> RunOutputs:
    feeds = {  # in memory as local-run hands them over: the frame and no CSV bytes
        vendor_id: VendorFeed.from_report(feed.report(), None, feed.offers)
        if in_memory
        else VendorFeed.from_report(feed.report(), feed.normalized_csv)
        for vendor_id, feed in normalized.items()
    }
    return build_run_outputs(
        config, run_id="r", as_of=AS_OF, config_version=None, feeds=feeds, timings_ms={}
    )


def _golden_run(name: str, out: Path) -> LocalRun:
    case = ROOT / name
    argv = ["--config", str(case / "tenant.yaml"), "--out", str(out)]
    for token in shlex.split((case / "args.txt").read_text(encoding="utf-8")):
        vendor_id, sep, path = token.partition("=")
        argv.append(f"{vendor_id}={case / path}" if sep else token)
    return resolve_run(parse_arguments(argv))


def _normalize(run: LocalRun, *, with_csv: bool = True) -> dict[str, NormalizedFeed]:
    return {
        vendor_id: normalize_feed(
            path.read_bytes(),
            config=run.config,
            vendor_id=vendor_id,
            as_of=AS_OF,
            sku_map=run.sku_maps.get(vendor_id),
            with_csv=with_csv,
        )
        for vendor_id, path in run.feeds.items()
    }


@pytest.mark.parametrize("name", CASES)
def test_golden_inputs_merge_alike_from_frames_and_from_csv(name: str, tmp_path: Path) -> None:
    run = _golden_run(name, tmp_path)
    normalized = _normalize(run)
    assert any(feed.offers is not None for feed in normalized.values())
    assert all(
        (feed.offers is None) == (feed.normalized_csv is None) for feed in normalized.values()
    )
    from_frames = _outputs(run.config, normalized, in_memory=True)
    from_csv = _outputs(run.config, normalized, in_memory=False)
    assert from_frames.files == from_csv.files
    assert from_frames.status == from_csv.status


@pytest.mark.parametrize("name", CASES)
def test_golden_inputs_merge_alike_from_csv_bytes_and_csv_files(name: str, tmp_path: Path) -> None:
    """The pricing service reads each normalized CSV from a file it streamed from S3."""
    run = _golden_run(name, tmp_path / "out")
    normalized = _normalize(run)
    files: dict[str, FeedInput] = {}
    for vendor_id, feed in normalized.items():
        path = None
        if feed.normalized_csv is not None:
            path = tmp_path / f"{vendor_id}.csv"
            path.write_bytes(feed.normalized_csv)
            stats = FeedStats.from_normalized_csv(path, feed.stats.accepted)
            assert stats == FeedStats.from_normalized_csv(feed.normalized_csv, feed.stats.accepted)
            assert len(stats.skus) == feed.stats.accepted  # one row per SKU
            assert stats.in_stock <= stats.skus
        files[vendor_id] = VendorFeed.from_report(feed.report(), path)
    from_files = build_run_outputs(
        run.config, run_id="r", as_of=AS_OF, config_version=None, feeds=files, timings_ms={}
    )
    assert from_files.files == _outputs(run.config, normalized, in_memory=False).files


@pytest.mark.parametrize("name", CASES)
def test_golden_offers_frames_read_back_from_their_csv(name: str, tmp_path: Path) -> None:
    for feed in _normalize(_golden_run(name, tmp_path)).values():
        if feed.offers is None:
            assert feed.normalized_csv is None
            continue
        assert feed.normalized_csv is not None
        csv_only = VendorOffers(feed.vendor_id, feed.normalized_csv, 499)
        in_memory = VendorOffers(feed.vendor_id, None, 499, feed.offers)
        assert read_normalized(in_memory).equals(read_normalized(csv_only))
        assert offers_csv(feed.offers) == feed.normalized_csv


@pytest.mark.parametrize("name", CASES)
def test_without_csv_a_feed_keeps_the_same_frame_and_report(name: str, tmp_path: Path) -> None:
    run = _golden_run(name, tmp_path)
    full, bare = _normalize(run), _normalize(run, with_csv=False)
    for vendor_id, feed in full.items():
        assert bare[vendor_id].normalized_csv is None
        assert bare[vendor_id].report() == feed.report()
        frame, bare_frame = feed.offers, bare[vendor_id].offers
        assert (frame is None) == (bare_frame is None)
        assert frame is None or bare_frame is None or frame.equals(bare_frame)


AWKWARD = [
    '"A\r\nB",1,1.00,,,,,"  two\r\n lines ",,',
    '"quote""d",2,0.00,,,,,,"x, y",',
    "Ünïcødé,3,,4.00,5.00,,refurb,Brand,Title,2026-01-01T10:00:00Z",
    '"C;D",0,9999999999999.99,,,3,,,,',
    "e\u00a0f,4,.5,,,1w,used,,,",
    "1,5,12.,,,,,,,",
]


@pytest.mark.parametrize("sku_case", ["upper", "preserve"])
def test_awkward_cells_merge_alike_from_frames_and_from_csv(sku_case: str) -> None:
    config = make_config(
        [vendor("v1"), vendor("v2")],
        sku={"case": sku_case},
        output={"columns": ["sku", "vendor_sku", "vendor_id", "quantity_available", "price",
                            "cost", "map_price", "msrp", "lead_time_days", "condition",
                            "brand", "title", "updated_at"]},
    )  # fmt: skip
    normalized = {
        "v1": normalize(csv_feed(*AWKWARD), config, vendor_id="v1"),
        "v2": normalize(csv_feed(*reversed(AWKWARD)), config, vendor_id="v2"),
    }
    assert all(feed.status == "ok" for feed in normalized.values())
    from_frames = _outputs(config, normalized, in_memory=True)
    from_csv = _outputs(config, normalized, in_memory=False)
    assert from_frames.files == from_csv.files
    assert from_frames.merged_rows == len(AWKWARD) - 1  # Ünïcødé has no cost
    assert from_frames.skus_left_out == from_csv.skus_left_out


def test_errors_document_items_are_written_as_the_json_encoder_writes_them() -> None:
    values: list[object] = [None, 'a\x00\n\t\\ é \u2028 "q"', 3, True, 1.5, [1, None], {"k": 2}]
    items = [
        {"vendor_id": "v", "row": row, "column": "sku", "code": "c", "message": "m", "value": value}
        for row in (None, 0, 7, 10**20)
        for value in values
    ]
    items.append({"row": 1, "vendor_id": "other key order"})
    encoder = json.JSONEncoder(ensure_ascii=False)
    lines = ",\n".join("    " + encoder.encode(item) for item in items)
    expected = f'{{\n  "errors": [\n{lines}\n  ],\n  "warnings": []\n}}\n'.encode()
    assert errors_document(items, []) == expected
    assert json.loads(errors_document(items, [])) == {"errors": items, "warnings": []}
