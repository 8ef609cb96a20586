"""How a drift baseline's SKU sets are stored (``feed_baselines.skus_parquet``): one Parquet
blob per vendor, its SKUs sorted with an ``in_stock`` flag each.

A baseline holds every SKU of a vendor's feed (hundreds of thousands): bound as ``text[]``
parameters, asyncpg encoded them one Python string at a time, which took seconds of pricing's
merge on the catalogue-shaped bench. The blob is built and read by polars (no string passes
through Python one by one: the drift guard joins the frames), zstd-compressed, and its bytes
are the same for the same sets.
"""

from __future__ import annotations

import io

import polars as pl

from relay_pricing.domain.drift import FeedBaseline


def encode_skus(baseline: FeedBaseline) -> bytes:
    """The baseline's SKUs (sorted) and which are in stock, as Parquet bytes."""
    buffer = io.BytesIO()
    baseline.stock.write_parquet(buffer, compression="zstd", statistics=False)
    return buffer.getvalue()


def decode_skus(blob: bytes, accepted: int) -> FeedBaseline:
    """:func:`encode_skus`'s bytes back as the baseline of ``accepted`` rows."""
    return FeedBaseline(accepted, pl.read_parquet(blob, columns=["sku", "in_stock"]))
