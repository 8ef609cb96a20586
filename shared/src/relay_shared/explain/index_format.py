"""The explain index of a run: one row per vendor offer the merge saw.

Its rows are what the run itself computed (pricing builds them from the merge's ranked offers
and the priced winners, with the step columns kept): the offer as normalized (money in cents),
``eligible`` (it has a cost), ``shipping_cents`` and ``landed``, each decision key's value
(``key_<name>``, Int64, the merge's order: ascending, nulls last), ``winner``; and on the
winning row only, the merged ``m_quantity_available`` / ``m_lead_time_days`` and each price
step's output in cents (``s_raw``, ``s_floor``, ``s_clamped``, ``s_rounded``, ``s_price``).

Layout (:mod:`.buckets`, shared with normalize's index of the rows as read): the SKUs are
spread over ``buckets`` (about :data:`SKUS_PER_BUCKET` SKUs each) by a hash of the SKU; each
bucket's rows are one LZ4 Arrow IPC stream, and the buckets are stored one after another in
data parts of about :data:`PART_BYTES` (8 MiB; ``explain/offers-NNNNN.arrow`` under the run's
reports). ``explain/manifest.json`` holds the decision keys, the price rule and each bucket's
part and byte range. A lookup reads the manifest and one bucket: one ranged GET, whatever the
size of the run. Grouping by a hash costs the run an integer sort; a SKU order would cost a
sort (or an ordered join) of a million strings, several times more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict

from relay_shared import keys
from relay_shared.explain import buckets
from relay_shared.explain.buckets import Chunk, bucket_of

__all__ = ["Chunk", "bucket_of"]

MANIFEST_NAME = "explain/manifest.json"
DATA_NAME = "explain/offers-{part:05d}.arrow"
KEY_PREFIX = "key_"
#: Each bucket costs the run one Arrow stream written (~0.7 ms); a lookup decodes one. At 1024
#: SKUs (a 1M-row run: 309 buckets of ~130 kB) the run's encoding took 0.55 s against 0.75 s
#: at 512, and a lookup's decode 1.2 ms against 1.1 ms (measured).
SKUS_PER_BUCKET = 1024
#: A data part's size (:data:`.source_format.PART_BYTES`'s reasons). A lookup reads one
#: bucket's byte range, whatever the part's size, but the embedded S3 (moto) copies the whole
#: part to answer a range: a 60 kB range of an 8 MiB part takes it 6.4 ms against 5.7 ms of a
#: 1 MiB part, and ``tests/bench/bench_explain.py``'s answer with a fresh reader (about 11
#: ranges, per vendor at once) 74-83 ms median against 66 ms (measured). Real S3 does not copy.
PART_BYTES = 8 << 20


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


class ExplainManifest(buckets.BucketLayout):
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

    def hash_agrees(self) -> bool:
        """True when this process puts the probe SKUs in the buckets the writer did."""
        return buckets.hash_agrees(self)

    def chunk_for(self, sku: str) -> Chunk | None:
        """Where the rows of ``sku`` are, if any can be (the run has offers)."""
        return buckets.chunk_for(self, sku)

    def every_chunk(self) -> list[Chunk]:
        return buckets.every_chunk(self)


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
    can upload one while the next is encoded); returns the manifest's bytes
    (:func:`.buckets.encode_buckets`)."""
    count = max(1, -(-index.skus // skus_per_bucket))
    layout = buckets.encode_buckets(index.frame, count, hand_over, part_bytes)
    return index.manifest.model_copy(update=layout).model_dump_json().encode()


def decode_chunk(body: bytes, sku: str) -> pl.DataFrame:
    """The rows of ``sku`` in one bucket's bytes."""
    return buckets.read_chunk(body).filter(pl.col("sku") == sku)


def rows_of(index: ExplainIndex, sku: str) -> pl.DataFrame:
    """The rows of ``sku`` in an index held in memory (``relay local-run --explain``)."""
    return index.frame.filter(pl.col("sku") == sku)


def as_dicts(rows: pl.DataFrame) -> list[dict[str, Any]]:
    return rows.sort("vendor_id").to_dicts()
