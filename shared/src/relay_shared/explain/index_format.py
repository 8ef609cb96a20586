"""The explain index of a run: one row per vendor offer the merge saw.

Its rows are what the run itself computed (pricing builds them from the merge's ranked offers
and the priced winners, with the step columns kept): the offer as normalized (money in cents),
``eligible`` (it has a cost), ``shipping_cents`` and ``landed``, each decision key's value
(``key_<name>``, Int64, the merge's order: ascending, nulls last), ``winner``; and on the
winning row only, the merged ``m_quantity_available`` / ``m_lead_time_days`` and each price
step's output in cents (``s_raw``, ``s_floor``, ``s_clamped``, ``s_rounded``, ``s_price``).

Layout: the SKUs are spread over ``buckets`` (about :data:`SKUS_PER_BUCKET` SKUs each) by a
hash of the SKU; each bucket's rows are one LZ4 Arrow IPC file, and the buckets are stored
one after another in data parts of about :data:`PART_BYTES` (``explain/offers-NNNNN.arrow``
under the run's reports). ``explain/manifest.json`` holds the decision keys, the price rule
and each bucket's part and byte range. A lookup reads the manifest and one bucket: one ranged
GET, whatever the size of the run. Grouping by a hash costs the run an integer sort; a SKU
order would cost a sort (or an ordered join) of a million strings, several times more.

The hash is polars' with fixed seeds, stable for one polars version. The manifest keeps a
few SKUs with their buckets: a reader whose hash disagrees (another polars version) reads
every bucket instead (slower, still right).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict

from relay_shared import keys

MANIFEST_NAME = "explain/manifest.json"
DATA_NAME = "explain/offers-{part:05d}.arrow"
KEY_PREFIX = "key_"
SKUS_PER_BUCKET = 512
# a data part's size: a ranged GET costs the embedded S3 (moto) time in proportion to the
# object's size (50 MB: ~55 ms against ~10 ms for 1 MB, measured), so the data is cut in parts
PART_BYTES = 1 << 20
_SEEDS = (0x5EED, 0x0BAD, 0xCAFE, 0xF00D)
_PROBES = 8
_BUCKET = "__bucket"


def bucket_of(skus: pl.Expr, buckets: int) -> pl.Expr:
    """The bucket of each SKU among ``buckets``."""
    return (skus.hash(*_SEEDS) % buckets).cast(pl.Int64)


class PriceRuleOut(BaseModel):
    """The run's price rule, in cents (as :class:`relay_pricing` applies it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    margin_basis: str
    base_margin_pct: str
    factor: str
    include_shipping_handling: bool
    min_price_cents: int
    max_price_cents: int | None
    enforce_map: bool
    rounding_mode: str
    rounding_ending_cents: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """Where one bucket's rows are: its part and byte range in it."""

    part: int
    offset: int
    length: int


class ExplainManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    tenant_id: str
    config_version: int | None
    strategy: str
    quantity_policy: str
    fallback_lead_time_days: int | None
    decision_keys: list[str]
    normalized_columns: list[str]
    rule: PriceRuleOut
    buckets: int = 0
    probe_skus: list[str] = []
    probe_buckets: list[int] = []
    # each bucket's part and byte range, column-wise (a long manifest parses faster so)
    bucket_part: list[int] = []
    bucket_offset: list[int] = []
    bucket_length: list[int] = []

    def hash_agrees(self) -> bool:
        """True when this process puts the probe SKUs in the buckets the writer did."""
        if not self.probe_skus:
            return True
        probes = pl.lit(pl.Series(self.probe_skus, dtype=pl.String))
        found = pl.select(bucket_of(probes, self.buckets))
        return found.to_series().to_list() == self.probe_buckets

    def chunk_for(self, sku: str) -> Chunk | None:
        """Where the rows of ``sku`` are, if any can be (the run has offers)."""
        if not self.buckets:
            return None
        found = pl.select(bucket_of(pl.lit(pl.Series([sku], dtype=pl.String)), self.buckets))
        return self._chunk(int(found.item()))

    def every_chunk(self) -> list[Chunk]:
        return [chunk for b in range(self.buckets) if (chunk := self._chunk(b)) is not None]

    def _chunk(self, bucket: int) -> Chunk | None:
        if not self.bucket_length[bucket]:
            return None
        return Chunk(
            self.bucket_part[bucket], self.bucket_offset[bucket], self.bucket_length[bucket]
        )


@dataclass(frozen=True, slots=True)
class ExplainIndex:
    """The index a run built: its rows, how many SKUs they hold, and its manifest (its
    buckets not yet set)."""

    frame: pl.DataFrame
    skus: int
    manifest: ExplainManifest


def manifest_key(tenant_id: str, run_id: str) -> str:
    return keys.report_key(tenant_id, run_id, MANIFEST_NAME)


def data_key(tenant_id: str, run_id: str, part: int) -> str:
    return keys.report_key(tenant_id, run_id, DATA_NAME.format(part=part))


def encode(
    index: ExplainIndex, skus_per_bucket: int = SKUS_PER_BUCKET, part_bytes: int = PART_BYTES
) -> tuple[bytes, list[bytes]]:
    """The manifest's bytes and the data parts' bytes (:func:`encode_parts`, collected)."""
    parts: list[bytes] = []
    manifest = encode_parts(index, parts.append, skus_per_bucket, part_bytes)
    return manifest, parts


def encode_parts(
    index: ExplainIndex,
    hand_over: Callable[[bytes], object],
    skus_per_bucket: int = SKUS_PER_BUCKET,
    part_bytes: int = PART_BYTES,
) -> bytes:
    """Hands each data part's bytes to ``hand_over`` as soon as it is complete (so a caller
    can upload one while the next is encoded); returns the manifest's bytes. The rows are
    grouped by bucket (one integer sort), each bucket's rows one Arrow IPC file, a part
    closed once it holds ``part_bytes``."""
    count = max(1, -(-index.skus // skus_per_bucket))
    frame = index.frame.with_columns(bucket_of(pl.col("sku"), count).alias(_BUCKET)).sort(_BUCKET)
    bounds = frame.get_column(_BUCKET).search_sorted(pl.Series(range(count + 1)), side="left")
    frame = frame.drop(_BUCKET)
    where: dict[str, list[int]] = {"bucket_part": [], "bucket_offset": [], "bucket_length": []}
    handed = 0
    data = io.BytesIO()
    for bucket in range(count):
        start, end = bounds[bucket], bounds[bucket + 1]
        offset = data.tell()
        if end > start:
            frame.slice(start, end - start).write_ipc(data, compression="lz4")  # a view
        where["bucket_part"].append(handed)
        where["bucket_offset"].append(offset)
        where["bucket_length"].append(data.tell() - offset)
        if data.tell() >= part_bytes:
            hand_over(data.getvalue())
            handed, data = handed + 1, io.BytesIO()
    if data.tell():
        hand_over(data.getvalue())
    probes = frame.get_column("sku").head(_PROBES).unique(maintain_order=True)
    found = pl.select(bucket_of(pl.lit(probes), count)).to_series().to_list()
    manifest = index.manifest.model_copy(
        update={"buckets": count, "probe_skus": probes.to_list(), "probe_buckets": found, **where}
    )
    return manifest.model_dump_json().encode()


def decode_chunk(body: bytes, sku: str) -> pl.DataFrame:
    """The rows of ``sku`` in one bucket's bytes."""
    return pl.read_ipc(io.BytesIO(body), memory_map=False).filter(pl.col("sku") == sku)


def rows_of(index: ExplainIndex, sku: str) -> pl.DataFrame:
    """The rows of ``sku`` in an index held in memory (``relay local-run --explain``)."""
    return index.frame.filter(pl.col("sku") == sku)


def as_dicts(rows: pl.DataFrame) -> list[dict[str, Any]]:
    return rows.sort("vendor_id").to_dicts()
