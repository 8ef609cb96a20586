"""Normalize's index of a feed's rows as read (issue 16 item 3: explain's ``as_read`` on the
service path): built from the frames normalize holds, it gives every SKU the rows, numbers,
rejections and raw cells that normalize's own reader gives on reading the feed again
(:func:`relay_normalize.domain.source_rows.sku_rows`, what ``relay local-run --explain``
uses), on the golden feeds (CSV, latin-1, BOM/CRLF/multi-line cells, JSON, JSONL, xlsx, SKU
maps) and on seeded dirty feeds, with small buckets, blocks and parts."""

from __future__ import annotations

import random
import shlex
from pathlib import Path

import polars as pl
import pytest
import yaml

from relay_cli.local_run_args import LocalRun, parse_arguments
from relay_cli.local_run_inputs import resolve_run
from relay_normalize.domain import normalize_feed
from relay_normalize.domain.source_rows import sku_rows
from relay_shared.explain.source_format import (
    PART_BYTES,
    Sizes,
    SourceHit,
    SourceRows,
    encode_source,
    first_accepted,
    lookup,
)
from relay_shared.tenant_config import parse_tenant_config
from tests.bench.bench_data import write_feeds
from tests.golden.golden_cases import CASES, ROOT

from .engine_support import AS_OF, csv_feed, make_config, vendor

SMALL = Sizes(keys_per_bucket=4, block_rows=3, part_bytes=700)


def _golden_run(name: str, out: Path) -> LocalRun:
    case = ROOT / name
    argv = ["--config", str(case / "tenant.yaml"), "--out", str(out)]
    for token in shlex.split((case / "args.txt").read_text(encoding="utf-8")):
        key, sep, path = token.partition("=")
        argv.append(f"{key}={case / path}" if sep else token)
    return resolve_run(parse_arguments([*argv, "--as-of", "2026-01-01T00:00:00Z"]))


def _expected(run: LocalRun, vendor_id: str, sku: str) -> list[SourceHit]:
    """What re-reading the feed gives, shaped as a lookup answers: every row's number and
    rejection, the cells of the first accepted row only."""
    rows = sku_rows(
        run.feeds[vendor_id],
        sku,
        config=run.config,
        vendor_id=vendor_id,
        as_of=run.as_of,
        sku_map=run.sku_maps.get(vendor_id),
    )
    hits = [SourceHit(row=row.row, error=row.error, cells=row.cells) for row in rows]
    kept = first_accepted(hits)
    return [hit if hit is kept else SourceHit(hit.row, hit.error) for hit in hits]


def _looked_up(found: list[SourceHit]) -> list[SourceHit]:
    return [SourceHit(hit.row, hit.error, cells=hit.cells) for hit in found]


def _check_every_sku(run: LocalRun, vendor_id: str, skus: list[str] | None = None) -> int:
    feed = normalize_feed(
        run.feeds[vendor_id],
        config=run.config,
        vendor_id=vendor_id,
        as_of=run.as_of,
        sku_map=run.sku_maps.get(vendor_id),
        with_csv=False,
        with_source=True,
    )
    assert feed.rows_as_read is not None
    index = encode_source(feed.rows_as_read, SMALL)
    every = feed.rows_as_read.key_rows.get_column("sku").unique(maintain_order=True).to_list()
    for sku in skus or every:
        assert _looked_up(lookup(index, sku)) == _expected(run, vendor_id, sku), (vendor_id, sku)
    assert lookup(index, "NO-SUCH-SKU") == []
    return len(skus or every)


@pytest.mark.parametrize("name", CASES)
def test_every_sku_of_a_golden_feed_has_the_rows_a_second_read_gives(
    name: str, tmp_path: Path
) -> None:
    run = _golden_run(name, tmp_path)
    checked = sum(_check_every_sku(run, vendor_id) for vendor_id in run.feeds)
    assert checked > 0


def test_seeded_dirty_feeds_give_the_same_rows_rejected_ones_included(tmp_path: Path) -> None:
    feeds = write_feeds(tmp_path, 400)
    config = parse_tenant_config(yaml.safe_load((tmp_path / "tenant.yaml").read_text()))
    run = LocalRun(config, feeds, {}, tmp_path / "out", AS_OF, "seeded")
    feed = normalize_feed(
        feeds["vendor_1"], config=config, vendor_id="vendor_1", as_of=AS_OF, sku_map=None
    )
    rejected = sorted({item.value or "" for item in feed.errors if item.column == "cost"})
    sample = [f"SKU-{number:07d}" for number in range(0, 400, 7)]

    checked = _check_every_sku(run, "vendor_1", sample)

    assert checked == len(sample)
    assert rejected  # the seeded feed has rows rejected on their cost


def test_a_row_rejected_on_its_cost_is_found_by_its_sku_with_its_code(tmp_path: Path) -> None:
    config = make_config([vendor("v1")])
    path = tmp_path / "v1.csv"
    path.write_bytes(csv_feed("A,5,10.00,,,,,,,", "B,1,abc,,,,,,,", "B,2,3.00,,,,,,,"))
    feed = normalize_feed(
        path, config=config, vendor_id="v1", as_of=AS_OF, sku_map=None, with_source=True
    )
    assert feed.rows_as_read is not None
    index = encode_source(feed.rows_as_read)

    assert lookup(index, "B") == [
        SourceHit(row=3, error="invalid_money", pos=1),
        SourceHit(
            row=4,
            error=None,
            pos=2,
            cells={
                "SKU": "B",
                "QTY": "2",
                "COST": "3.00",
                "MAP": "",
                "MSRP": "",
                "LEAD": "",
                "COND": "",
                "BRAND": "",
                "TITLE": "",
                "UPDATED": "",
            },
        ),
    ]
    assert (index.manifest.buckets, len(index.manifest.block_part), len(index.parts)) == (1, 1, 1)


def test_without_with_source_a_feed_keeps_no_rows_as_read() -> None:
    feed = normalize_feed(
        csv_feed("A,5,10.00,,,,,,,"),
        config=make_config(),
        vendor_id="v1",
        as_of=AS_OF,
        sku_map=None,
    )
    assert feed.rows_as_read is None


def test_a_feed_sized_index_goes_in_parts_of_8_mib_and_is_read_across_them() -> None:
    # each part is one PUT: 1 MiB parts took 20 PUTs for a 200k-row catalogue feed, 8 MiB take 3
    rows = 50_000
    noise = random.Random(16).randbytes(rows * 5 * 40).hex()  # hex cells: LZ4 cannot shrink them
    cells = pl.DataFrame(
        {
            f"c{c}": [noise[(r * 5 + c) * 80 : (r * 5 + c + 1) * 80] for r in range(rows)]
            for c in range(5)
        }
    )
    skus = [f"SKU-{r:06d}" for r in range(rows)]
    key_rows = pl.DataFrame(
        {"sku": skus, "row": range(2, rows + 2), "error": [None] * rows, "pos": range(rows)},
        schema={"sku": pl.String, "row": pl.Int64, "error": pl.String, "pos": pl.Int64},
    )
    headers = ["A", "B", "C", "D", "E"]
    index = encode_source(SourceRows("t1", "v1", key_rows, cells, headers))

    assert len(index.parts) == 3
    assert all(len(part) >= PART_BYTES == 8 * 1024 * 1024 for part in index.parts[:-1])
    for r in (0, rows // 2, rows - 1):  # the first part, the middle one, the last
        [hit] = lookup(index, skus[r])
        assert (hit.row, hit.error, hit.pos) == (r + 2, None, r)
        assert hit.cells == dict(zip(headers, cells.row(r), strict=True))
