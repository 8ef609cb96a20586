"""How a drift baseline's SKU sets are stored (``feed_baselines.skus_parquet``): one Parquet
blob per vendor, its SKUs sorted with an ``in_stock`` flag each.

A baseline holds every SKU of a vendor's feed (hundreds of thousands): bound as ``text[]``
parameters, asyncpg encoded them one Python string at a time, which took seconds of pricing's
merge on the catalogue-shaped bench. The blob is built and read by polars (no string passes
through Python one by one but the frozensets the drift guard compares), zstd-compressed, and
its bytes are the same for the same sets.
"""

from __future__ import annotations

import io

import polars as pl

from relay_pricing.domain.drift import FeedBaseline

_SCHEMA = {"sku": pl.String}


def encode_skus(baseline: FeedBaseline) -> bytes:
    """The baseline's SKUs (sorted) and which are in stock, as Parquet bytes."""
    every = (
        baseline.skus if baseline.in_stock <= baseline.skus else baseline.skus | baseline.in_stock
    )
    skus = pl.DataFrame({"sku": list(every)}, schema=_SCHEMA)
    in_stock = pl.Series("in_stock", list(baseline.in_stock), dtype=pl.String)
    frame = skus.sort("sku").with_columns(in_stock=pl.col("sku").is_in(in_stock.implode()))
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    return buffer.getvalue()


def decode_skus(blob: bytes) -> tuple[frozenset[str], frozenset[str]]:
    """:func:`encode_skus`'s bytes back as (every SKU, the SKUs in stock)."""
    frame = pl.read_parquet(blob)
    skus = frame.get_column("sku")
    return frozenset(skus.to_list()), frozenset(skus.filter(frame["in_stock"]).to_list())
