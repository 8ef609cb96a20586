"""Benchmark of changes.csv: the diff of two 1M-row merged feeds in polars (not a test).

    uv run python tests/bench/bench_changes.py [--rows 1000000] [--repeat 3]

Two seeded merged feeds (``sku, quantity_available, price, vendor_id, lead_time_days,
updated_at``, the merged CSV's text) of ``--rows`` rows: between them 1 % of the SKUs are
removed and 1 % added, 5 % change price, 10 % change quantity, and the SKUs of three vendors of
five get a new ``updated_at`` (a refreshed feed). Times, median of ``--repeat`` after one
warm-up, wall and CPU (all threads: what a shared machine's wait hides): reading both CSVs
(as the service reads them from S3's bytes), the diff
(:func:`relay_pricing.domain.changes.feed_changes`), writing changes.csv, and the delta and
history frames, and a config preview's diff: the full diff and its summary from one join
(:func:`relay_pricing.domain.feed_diff.compare_feeds`; the summary alone,
:func:`relay_pricing.domain.feed_diff.feed_diff`, for comparison). Target (issue 16): the diff
of two 1M-row runs under 2 s; exit 1 when the read + diff, or a preview's read + diff +
summary, misses it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import polars as pl

from relay_pricing.domain.changes import changes_csv, feed_changes, read_feed_text
from relay_pricing.domain.delta import delta_frame, sku_history
from relay_pricing.domain.feed_diff import compare_feeds, feed_diff

TARGET_S = 2.0


def _feeds(rows: int) -> tuple[bytes, bytes]:
    """The previous and the new merged feed's CSV bytes."""
    index = pl.int_range(0, rows + rows // 100, eager=True).alias("i")
    base = pl.DataFrame(index).with_columns(
        pl.format("SKU-{}", pl.col("i").cast(pl.String).str.zfill(8)).alias("sku"),
        (pl.col("i").hash(1) % 500).alias("qty"),
        (pl.col("i").hash(2) % 90_000 + 100).alias("cents"),
        pl.format("vendor_{}", pl.col("i") % 5 + 1).alias("vendor_id"),
        (pl.col("i").hash(3) % 30 + 1).alias("lead_time_days"),
        (pl.col("i").hash(4) % 100).alias("roll"),
    )
    old = base.filter(pl.col("i") < rows).with_columns(
        pl.lit("2026-01-01T00:00:00Z").alias("updated_at")
    )
    new = base.filter(pl.col("i") >= rows // 100).with_columns(
        pl.when(pl.col("roll") < 5).then(pl.col("cents") + 100).otherwise(pl.col("cents")),
        pl.when(pl.col("roll").is_between(5, 14)).then(pl.col("qty") + 1).otherwise("qty"),
        pl.when(pl.col("i") % 5 < 3)
        .then(pl.lit("2026-01-02T00:00:00Z"))
        .otherwise(pl.lit("2026-01-01T00:00:00Z"))
        .alias("updated_at"),
    )
    return _csv(old), _csv(new)


def _csv(frame: pl.DataFrame) -> bytes:
    out = frame.select(
        "sku",
        pl.col("qty").alias("quantity_available"),
        (pl.col("cents").cast(pl.Decimal(38, 2)) / 100).cast(pl.String).alias("price"),
        "vendor_id",
        "lead_time_days",
        "updated_at",
    )
    return out.write_csv(line_terminator="\n").encode()


def _median(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    """Median wall and CPU seconds (all threads) of ``work``, after one warm-up."""
    work()
    wall, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    old_csv, new_csv = _feeds(args.rows)
    old, new = read_feed_text(old_csv), read_feed_text(new_csv)
    changes = feed_changes(old, new)
    figures = {
        "read both CSVs": _median(
            args.repeat, lambda: (read_feed_text(old_csv), read_feed_text(new_csv))
        ),
        "diff (feed_changes)": _median(args.repeat, lambda: feed_changes(old, new)),
        "write changes.csv": _median(args.repeat, lambda: changes_csv(changes)),
        "delta rows": _median(args.repeat, lambda: delta_frame(changes, new)),
        "history rows": _median(args.repeat, lambda: sku_history(changes)),
        "summary (feed_diff)": _median(args.repeat, lambda: feed_diff(old, new)),
        "preview (compare_feeds)": _median(args.repeat, lambda: compare_feeds(old, new)),
    }
    print(
        f"feeds: {old.height:,} and {new.height:,} rows; changes.csv: {changes.height:,} rows,"
        f" {len(changes_csv(changes)) / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} CPUs"
    )
    for name, (wall, cpu) in figures.items():
        print(f"{name:<24} {wall:6.3f} s wall  {cpu:6.3f} s CPU")
    read = figures["read both CSVs"]
    total = read[0] + figures["diff (feed_changes)"][0]
    cpu = read[1] + figures["diff (feed_changes)"][1]
    print(f"{'read + diff':<24} {total:6.3f} s wall  {cpu:6.3f} s CPU (target < {TARGET_S} s)")
    preview = read[0] + figures["preview (compare_feeds)"][0]
    preview_cpu = read[1] + figures["preview (compare_feeds)"][1]
    print(
        f"{'read + diff + summary':<24} {preview:6.3f} s wall  {preview_cpu:6.3f} s CPU"
        f" (a config preview's diff, target < {TARGET_S} s)"
    )
    return 0 if max(total, preview) < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
