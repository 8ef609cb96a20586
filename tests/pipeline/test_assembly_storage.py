"""Pricing's assembly tables on the real Postgres: a vendor's Parquet hand-off key is kept
with its result and its latest feed, and drift baselines are stored as one Parquet blob (a
baseline stored as arrays before still reads back the same)."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator

import asyncpg
import polars as pl
import pytest

from relay_cli.stack import StackEndpoints
from relay_pricing.adapters.assembly_repository import AssemblyRepository, MergeRecord
from relay_pricing.adapters.baseline_codec import decode_skus, encode_skus
from relay_pricing.domain.assembly import VendorHandoff
from relay_pricing.domain.drift import FeedBaseline
from relay_shared import subjects
from relay_shared.database import apply_migrations, create_pool
from relay_shared.event_examples import example_events
from relay_shared.events import OffersMerged, RowsNormalized, stage_event_id

pytestmark = pytest.mark.stack


@pytest.fixture
async def pool(stack: StackEndpoints) -> AsyncIterator[asyncpg.Pool]:
    schema = f"pa_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(stack.database_url, schema)
    try:
        await pool.execute(f'CREATE SCHEMA "{schema}"')
        await apply_migrations(pool, schema, "relay_pricing.migrations")
        yield pool
    finally:
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


def _result(vendor_id: str, scope: str, handoff_key: str | None) -> RowsNormalized:
    example = example_events()[subjects.ROWS_NORMALIZED]
    assert isinstance(example, RowsNormalized)
    return example.model_copy(
        update={
            "event_id": stage_event_id(subjects.ROWS_NORMALIZED, scope, vendor_id),
            "tenant_id": "t1",
            "run_id": scope,
            "scope_id": scope,
            "vendor_id": vendor_id,
            "normalized_key": f"tenants/t1/normalized/{vendor_id}/{scope}/normalized.csv",
            "handoff_key": handoff_key,
            "findings_key": f"tenants/t1/reports/{scope}/vendors/{vendor_id}.json",
            "run_vendors": ["v1", "v2"],
        }
    )


async def test_handoff_keys_are_kept_with_results_and_latest_feeds(pool: asyncpg.Pool) -> None:
    repository = AssemblyRepository(pool)
    parquet = "tenants/t1/normalized/v1/r1/normalized.parquet"
    await repository.record(_result("v1", "r1", parquet))
    await repository.record(_result("v2", "r1", None))  # an event from before the hand-off
    received = await repository.received("r1")
    assert received["v1"] == VendorHandoff(
        "v1", "ok", "tenants/t1/normalized/v1/r1/normalized.csv",
        "tenants/t1/reports/r1/vendors/v1.json", True, parquet,
    )  # fmt: skip
    assert received["v2"].handoff_key is None
    merged = example_events()[subjects.OFFERS_MERGED]
    assert isinstance(merged, OffersMerged)
    baseline = FeedBaseline.of_sets(3, frozenset({"A", "B\r\nC", "é"}), frozenset({"B\r\nC"}))
    recorded = await repository.record_merge(
        MergeRecord(
            tenant_id="t1",
            scope_id="r1",
            status="succeeded",
            merged_rows=3,
            event=merged.model_copy(update={"event_id": "offers.merged:r1", "tenant_id": "t1"}),
            promoted=list(received.values()),
            baselines={"v1": baseline},
        )
    )
    assert recorded is True
    latest = await repository.latest("t1")
    assert latest["v1"] == VendorHandoff(
        "v1", "ok", received["v1"].normalized_key, received["v1"].findings_key, False, parquet
    )
    assert latest["v2"].handoff_key is None
    assert await repository.baselines("t1") == {"v1": baseline}
    stored = await pool.fetchrow(
        "SELECT skus, in_stock_skus, skus_parquet FROM feed_baselines WHERE vendor_id = 'v1'"
    )
    assert stored is not None
    assert (stored["skus"], stored["in_stock_skus"]) == (None, None)
    assert stored["skus_parquet"] == encode_skus(baseline)


async def test_a_baseline_stored_as_arrays_reads_back_the_same(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO feed_baselines (tenant_id, vendor_id, scope_id, accepted, skus,"
        " in_stock_skus) VALUES ('t2', 'v1', 'old', 2, $1, $2)",
        ["A", "B"],
        ["B"],
    )
    baselines = await AssemblyRepository(pool).baselines("t2")
    assert baselines == {"v1": FeedBaseline.of_sets(2, frozenset({"A", "B"}), frozenset({"B"}))}


def test_baseline_blobs_round_trip_and_do_not_depend_on_set_order() -> None:
    skus = frozenset(f"SKU-{n:06d}" for n in range(5000))
    in_stock = frozenset(sku for sku in skus if sku.endswith(("1", "7")))
    baseline = FeedBaseline.of_sets(5000, skus, in_stock)
    blob = encode_skus(baseline)
    assert decode_skus(blob, 5000) == baseline
    assert (decode_skus(blob, 5000).skus, decode_skus(blob, 5000).in_stock) == (skus, in_stock)
    reordered = frozenset(sorted(skus, reverse=True))
    assert encode_skus(FeedBaseline.of_sets(5000, reordered, in_stock)) == blob
    empty = decode_skus(encode_skus(FeedBaseline.of_sets(0, frozenset(), frozenset())), 0)
    assert (empty.accepted, empty.skus, empty.in_stock) == (0, frozenset(), frozenset())


def test_a_blob_written_from_sets_before_the_frames_reads_back_and_encodes_the_same() -> None:
    """The blob as the set-based codec wrote it (sorted SKUs, ``in_stock`` by membership)."""
    skus, in_stock = ["B\r\nC", "A", "é", "Z"], ["é", "A"]
    frame = pl.DataFrame({"sku": skus}, schema={"sku": pl.String}).sort("sku")
    frame = frame.with_columns(
        in_stock=pl.col("sku").is_in(pl.Series("in_stock", in_stock).implode())
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    baseline = decode_skus(buffer.getvalue(), 4)
    assert baseline == FeedBaseline.of_sets(4, skus, in_stock)
    assert encode_skus(baseline) == buffer.getvalue()
