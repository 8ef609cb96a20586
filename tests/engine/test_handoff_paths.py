"""The engine's two hand-offs give the same bytes: normalize's typed frame as it is (``relay
local-run``) and the frame read back from the normalized CSV (the services, through S3). Also:
errors.json's fast item writer."""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Mapping
from pathlib import Path

import pytest

from relay_cli.local_run_args import LocalRun, parse_arguments
from relay_cli.local_run_inputs import resolve_run
from relay_normalize.domain import NormalizedFeed, normalize_feed, offers_csv
from relay_pricing.adapters.normalized_offers import read_offers, vendor_feed
from relay_pricing.domain import FeedInput, RunOutputs, VendorFeed, build_run_outputs
from relay_pricing.domain.drift import FeedBaseline, fresh_baselines
from relay_pricing.domain.merge import merge_columns
from relay_shared.findings import Finding
from relay_shared.run_reports import ErrorsReport
from relay_shared.tenant_config import TenantConfig
from relay_shared.vendor_report import VendorReport

from ..golden.golden_cases import CASES, ROOT
from .engine_support import AS_OF, csv_feed, make_config, normalize, vendor


def _outputs(
    config: TenantConfig, normalized: Mapping[str, NormalizedFeed], *, in_memory: bool
) -> RunOutputs:
    feeds = {  # in memory as local-run hands them over: normalize's own frame
        vendor_id: VendorFeed(_report(feed), feed.offers)
        if in_memory
        else vendor_feed(_report(feed), feed.normalized_csv, merge_columns(config.output.columns))
        for vendor_id, feed in normalized.items()
    }
    return build_run_outputs(
        config, run_id="r", as_of=AS_OF, config_version=None, feeds=feeds, timings_ms={}
    )


def _report(feed: NormalizedFeed) -> VendorReport:
    return VendorReport.model_validate(feed.report())


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
    columns = merge_columns(run.config.output.columns)
    files: dict[str, FeedInput] = {}
    for vendor_id, feed in normalized.items():
        path = None
        if feed.normalized_csv is not None:
            path = tmp_path / f"{vendor_id}.csv"
            path.write_bytes(feed.normalized_csv)
        files[vendor_id] = vendor_feed(_report(feed), path, columns)
    from_files = build_run_outputs(
        run.config, run_id="r", as_of=AS_OF, config_version=None, feeds=files, timings_ms={}
    )
    assert from_files.files == _outputs(run.config, normalized, in_memory=False).files


@pytest.mark.parametrize("name", CASES)
def test_golden_drift_baselines_alike_from_frames_and_from_csv(name: str, tmp_path: Path) -> None:
    run = _golden_run(name, tmp_path)
    normalized = _normalize(run)
    in_memory = {v: VendorFeed(_report(feed), feed.offers) for v, feed in normalized.items()}
    columns = merge_columns(run.config.output.columns)
    from_csv = {
        v: vendor_feed(_report(feed), feed.normalized_csv, columns)
        for v, feed in normalized.items()
    }
    baselines = fresh_baselines(in_memory, list(normalized))
    assert baselines == fresh_baselines(from_csv, list(normalized))
    assert set(baselines) == {v for v, feed in normalized.items() if feed.offers is not None}
    for vendor_id, baseline in baselines.items():
        assert len(baseline.skus) == normalized[vendor_id].stats.accepted  # one row per SKU
        assert baseline.in_stock <= baseline.skus
    assert fresh_baselines(in_memory, []) == {}


@pytest.mark.parametrize("name", CASES)
def test_golden_offers_frames_read_back_from_their_csv(name: str, tmp_path: Path) -> None:
    for feed in _normalize(_golden_run(name, tmp_path)).values():
        if feed.offers is None:
            assert feed.normalized_csv is None
            continue
        assert feed.normalized_csv is not None
        assert read_offers(feed.normalized_csv).equals(feed.offers)
        pruned = merge_columns(["sku", "price"])
        assert read_offers(feed.normalized_csv, pruned).equals(feed.offers.select(pruned))
        assert offers_csv(feed.offers) == feed.normalized_csv
        baseline = FeedBaseline.of_offers(read_offers(feed.normalized_csv), feed.stats.accepted)
        assert baseline == FeedBaseline.of_offers(feed.offers, feed.stats.accepted)


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


def test_errors_json_items_are_written_as_the_json_encoder_writes_them() -> None:
    values = [None, 'a\x00\n\t\\ é \u2028 "q"', "", "x" * 300]
    items = [
        Finding("v", row, column, "c", 'm "é"\n', value)
        for row in (None, 0, 7, 10**20)
        for column in (None, "sku")
        for value in values
    ]
    items.append(Finding(None, True, None, "c", "a bool row", None))  # type: ignore[arg-type]
    encoder = json.JSONEncoder(ensure_ascii=False)
    lines = ",\n".join("    " + encoder.encode(dataclasses.asdict(item)) for item in items)
    expected = f'{{\n  "errors": [\n{lines}\n  ],\n  "warnings": []\n}}\n'.encode()
    document = ErrorsReport(errors=items, warnings=[]).to_json_bytes()
    assert document == expected
    assert json.loads(document) == {
        "errors": [dataclasses.asdict(item) for item in items],
        "warnings": [],
    }
    empty = ErrorsReport(errors=[], warnings=[])
    assert empty.to_json_bytes() == b'{\n  "errors": [],\n  "warnings": []\n}\n'
    assert ErrorsReport.model_validate_json(document) == ErrorsReport(errors=items, warnings=[])
