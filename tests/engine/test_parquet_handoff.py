"""The services' Parquet hand-off (normalize → pricing) merges to the same bytes as the
normalized CSV it stands beside: for every golden case, awkward cells, every column and the
pruned ones pricing asks for. A Parquet file that is not an offers frame is refused."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl
import pytest

from relay_normalize.domain import NormalizedFeed
from relay_normalize.domain.write.handoff_parquet import (
    HANDOFF_NAME,
    handoff_key,
    write_offers_parquet,
)
from relay_pricing.adapters.normalized_offers import (
    InvalidHandoffError,
    RowsFormat,
    read_offers,
    read_offers_parquet,
    vendor_feed,
)
from relay_pricing.domain import FeedInput, RunOutputs, build_run_outputs
from relay_pricing.domain.merge import merge_columns
from relay_shared import keys
from relay_shared.tenant_config import TenantConfig
from relay_shared.tenant_config.models import NORMALIZED_COLUMNS

from ..golden.golden_cases import CASES
from .engine_support import AS_OF, csv_feed, make_config, normalize, vendor
from .test_handoff_paths import AWKWARD, _golden_run, _normalize, _report


def _stage(normalized: Mapping[str, NormalizedFeed], folder: Path) -> dict[str, tuple[Path, Path]]:
    """Each ok feed's normalized CSV and Parquet hand-off, written from the same frame into
    files, as normalize stores them."""
    staged: dict[str, tuple[Path, Path]] = {}
    for number, (vendor_id, feed) in enumerate(normalized.items()):
        if feed.offers is None:
            continue
        assert feed.normalized_csv is not None
        csv, parquet = folder / f"{number}.csv", folder / f"{number}.parquet"
        csv.write_bytes(feed.normalized_csv)
        write_offers_parquet(feed.offers, parquet)
        staged[vendor_id] = (csv, parquet)
    return staged


def _merged(
    config: TenantConfig,
    normalized: Mapping[str, NormalizedFeed],
    staged: Mapping[str, tuple[Path, Path]],
    rows_format: RowsFormat,
) -> RunOutputs:
    columns = merge_columns(config.output.columns)
    feeds: dict[str, FeedInput] = {}
    for vendor_id, feed in normalized.items():
        paths = staged.get(vendor_id)
        rows = None if paths is None else paths[1 if rows_format == "parquet" else 0]
        feeds[vendor_id] = vendor_feed(_report(feed), rows, columns, rows_format)
    return build_run_outputs(
        config, run_id="r", as_of=AS_OF, config_version=None, feeds=feeds, timings_ms={}
    )


@pytest.mark.parametrize("name", CASES)
def test_golden_inputs_merge_alike_from_parquet_and_from_csv(name: str, tmp_path: Path) -> None:
    run = _golden_run(name, tmp_path / "out")
    normalized = _normalize(run)
    staged = _stage(normalized, tmp_path)
    assert staged  # every case has at least one ok feed
    from_parquet = _merged(run.config, normalized, staged, "parquet")
    from_csv = _merged(run.config, normalized, staged, "csv")
    assert from_parquet.files == from_csv.files
    assert from_parquet.status == from_csv.status
    assert from_parquet.merged_rows == from_csv.merged_rows


@pytest.mark.parametrize("name", CASES)
def test_golden_offers_read_back_alike_from_parquet_and_csv(name: str, tmp_path: Path) -> None:
    normalized = _normalize(_golden_run(name, tmp_path / "out"))
    for csv, parquet in _stage(normalized, tmp_path).values():
        assert read_offers_parquet(parquet).equals(read_offers(csv))
        assert read_offers_parquet(parquet).columns == list(NORMALIZED_COLUMNS)
        pruned = merge_columns(["sku", "price", "map_price"])
        assert read_offers_parquet(parquet, pruned).equals(read_offers(csv, pruned))
        assert read_offers_parquet(parquet.read_bytes(), pruned).equals(read_offers(csv, pruned))


@pytest.mark.parametrize("sku_case", ["upper", "preserve"])
def test_awkward_cells_merge_alike_from_parquet_and_from_csv(sku_case: str, tmp_path: Path) -> None:
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
    staged = _stage(normalized, tmp_path)
    assert set(staged) == {"v1", "v2"}
    from_parquet = _merged(config, normalized, staged, "parquet")
    assert from_parquet.files == _merged(config, normalized, staged, "csv").files
    assert from_parquet.merged_rows == len(AWKWARD) - 1  # Ünïcødé has no cost


def test_an_ok_feed_without_rows_hands_over_an_empty_typed_frame(tmp_path: Path) -> None:
    config = make_config([vendor("v1")])
    feed = normalize(csv_feed(), config, vendor_id="v1")
    assert feed.offers is not None
    assert feed.offers.height == 0
    write_offers_parquet(feed.offers, tmp_path / HANDOFF_NAME)
    back = read_offers_parquet(tmp_path / HANDOFF_NAME)
    assert back.height == 0
    assert back.schema == feed.offers.schema


def test_a_parquet_file_that_is_not_an_offers_frame_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pl.DataFrame({"sku": [1, 2], "cost": ["1.00", "2.00"]}).write_parquet(path)
    with pytest.raises(InvalidHandoffError) as caught:
        read_offers_parquet(path, ["sku", "cost"])
    assert caught.value.code == "invalid_handoff"
    assert caught.value.message == (
        "the hand-off's columns are missing or not typed: {'sku': 'Int64', 'cost': 'String'}"
    )
    with pytest.raises(InvalidHandoffError, match="'quantity_available': 'None'"):
        read_offers_parquet(path, ["quantity_available"])


def test_the_handoff_sits_beside_the_normalized_csv() -> None:
    csv_key = keys.normalized_key("t1", "v1", "run-1")
    assert csv_key == "tenants/t1/normalized/v1/run-1/normalized.csv"
    assert handoff_key(csv_key) == "tenants/t1/normalized/v1/run-1/normalized.parquet"
    keys.tenant_key("t1", handoff_key(csv_key))  # the tenant's own: pricing accepts it
