"""Normalize's index of a vendor feed's rows as read, for explain's ``as_read`` and for
telling a rejected SKU from an absent one.

Written by normalize from the frames it already holds (no second read of the feed), one per
feed it cleaned, beside the feed's normalized rows: ``.../normalized/{vendor}/{scope}/source/``
(``manifest.json`` and ``rows-NNNNN.arrow``; the scope of a run's feed is the run id, so the
explain reader finds a run's index from the run and vendor ids alone).

Two levels, so that the feed's cells are never sorted (a sort gathers every string column:
it cost more than the rest of the index together, measured):

- the keys: one row per feed row whose SKU could be cleaned (a row without one cannot be
  looked up by SKU): ``sku`` (cleaned, as the run had it), ``row`` (the row number findings
  name), ``error`` (the code of the row's rejection, null for an accepted row) and ``pos``
  (the row's position among the cells). Bucketed by SKU (:mod:`.buckets`, pricing's hash).
- the cells: the raw cells ``c0..cN`` in the feed's order, in blocks of ``block_rows`` rows,
  each block one Arrow IPC stream; the manifest lists their headers (a repeated header gets
  ``#<position>`` after it) and each block's part and byte range.

A lookup reads the SKU's key bucket, then the cells' block of the row it shows (one ranged
GET each). A feed reported ``unchanged`` (normalize reuses its last result) gets a copy of
that feed's manifest: ``data_folder`` still names the folder of the parts it was written in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl
from pydantic import ConfigDict, Field

from relay_shared import keys
from relay_shared.explain import buckets
from relay_shared.explain.buckets import BucketLayout, Chunk, Compression, PartWriter

SOURCE_FOLDER = "source"
MANIFEST_NAME = "manifest.json"
DATA_NAME = "rows-{part:05d}.arrow"
KEYS_PER_BUCKET = 8192
BLOCK_ROWS = 4096
#: A data part's size. Each part is one PUT, and a PUT costs the same whatever its size:
#: about 9 ms of CPU between the client and the embedded S3 (moto) beside the bytes' own cost.
#: At 1 MiB a 200k-row feed's index took 20 PUTs, at 8 MiB it takes 3: normalizing the
#: catalogue bench's five feeds went from 7.2 s to 5.8-6.2 s, normalize's CPU from 8.9 to
#: 7.9 s and moto's from 2.8 to 2.1 s (in-process handler, measured). Real S3 bills PUTs by
#: the request, too. A lookup still reads one byte range (:data:`.index_format.PART_BYTES`).
PART_BYTES = 8 << 20
# LZ4, though it costs the encoding about twice the CPU of uncompressed files: uncompressed
# Arrow strings are ~3x the feed's bytes, and uploading them cost normalize more than the
# compression (a 200k-row feed against the embedded S3: +17 % of normalize's time per feed
# uncompressed, +10 % with LZ4, measured on a loaded machine)
CELLS_COMPRESSION: Compression = "lz4"
SKU, ROW, ERROR, POS = "sku", "row", "error", "pos"


class SourceManifest(BucketLayout):  # the keys' layout: the base's fields
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    vendor_id: str
    #: the raw cells' headers, ``c0..cN`` in order
    headers: list[str]
    #: the folder (a key prefix ending in ``/``) holding the data parts; set when stored
    data_folder: str = ""
    # the cells' blocks
    block_rows: int = BLOCK_ROWS
    block_part: list[int] = Field(default_factory=list)
    block_offset: list[int] = Field(default_factory=list)
    block_length: list[int] = Field(default_factory=list)

    def block_of(self, pos: int) -> Chunk:
        """Where the cells of the row at ``pos`` are."""
        block = pos // self.block_rows
        return Chunk(self.block_part[block], self.block_offset[block], self.block_length[block])


@dataclass(frozen=True, slots=True)
class SourceRows:
    """A feed's rows as read, not yet encoded: ``key_rows`` (``sku``, ``row``, ``error``,
    ``pos``; rows without a SKU left out) and ``cells`` (``c0..cN`` in the feed's order)
    under ``headers``. Normalize builds it from its own frames without a copy."""

    tenant_id: str
    vendor_id: str
    key_rows: pl.DataFrame
    cells: pl.DataFrame
    headers: list[str]


@dataclass(frozen=True, slots=True)
class SourceIndex:
    """A feed's index of its rows as read, encoded: the manifest (``data_folder`` unset)
    and the data parts."""

    manifest: SourceManifest
    parts: list[bytes]


@dataclass(frozen=True, slots=True)
class SourceHit:
    """A row of the feed whose cleaned SKU is the one asked for; its ``cells`` when they
    were read (a lookup reads those of the first accepted row only)."""

    row: int
    error: str | None  # the rejection's code; None for an accepted row
    pos: int = -1
    cells: dict[str, str | None] | None = None


def source_folder(tenant_id: str, vendor_id: str, scope_id: str) -> str:
    """The index's folder: beside the feed's normalized rows (``keys.normalized_key``)."""
    folder, _, _ = keys.normalized_key(tenant_id, vendor_id, scope_id).rpartition("/")
    return f"{folder}/{SOURCE_FOLDER}/"


def source_manifest_key(tenant_id: str, vendor_id: str, scope_id: str) -> str:
    return source_folder(tenant_id, vendor_id, scope_id) + MANIFEST_NAME


def source_data_key(data_folder: str, part: int) -> str:
    return data_folder + DATA_NAME.format(part=part)


@dataclass(frozen=True, slots=True)
class Sizes:
    """The layout's sizes (smaller ones in tests, to have many buckets, blocks and parts)
    and its Arrow streams' compression (the streams say theirs: a reader needs not know)."""

    keys_per_bucket: int = KEYS_PER_BUCKET
    block_rows: int = BLOCK_ROWS
    part_bytes: int = PART_BYTES
    compression: Compression = CELLS_COMPRESSION


DEFAULT_SIZES = Sizes()


def encode_source(rows: SourceRows, sizes: Sizes = DEFAULT_SIZES) -> SourceIndex:
    """The index encoded, its parts collected (:func:`encode_source_parts`)."""
    parts: list[bytes] = []
    manifest = encode_source_parts(rows, parts.append, sizes)
    return SourceIndex(manifest, parts)


def encode_source_parts(
    rows: SourceRows, hand_over: Callable[[bytes], object], sizes: Sizes = DEFAULT_SIZES
) -> SourceManifest:
    """Hands each data part's bytes to ``hand_over`` as soon as it is complete (so a caller
    can upload one while the next is encoded): the cells' blocks, then the keys' buckets;
    returns the manifest (``data_folder`` unset)."""
    writer = PartWriter(hand_over, sizes.part_bytes, sizes.compression)
    blocks = writer.add_all(  # views
        rows.cells.slice(start, sizes.block_rows)
        for start in range(0, rows.cells.height, sizes.block_rows)
    )
    where = {
        "block_part": [chunk.part for chunk in blocks],
        "block_offset": [chunk.offset for chunk in blocks],
        "block_length": [chunk.length for chunk in blocks],
    }
    count = max(1, -(-rows.key_rows.height // sizes.keys_per_bucket))
    layout = buckets.write_buckets(rows.key_rows, count, writer, partition=True)
    writer.close()
    manifest = SourceManifest(
        tenant_id=rows.tenant_id,
        vendor_id=rows.vendor_id,
        headers=rows.headers,
        block_rows=sizes.block_rows,
    )
    return manifest.model_copy(update={**layout, **where})


def key_hits(body: bytes, sku: str) -> list[SourceHit]:
    """The rows of ``sku`` in one key bucket's bytes, in file order (no cells)."""
    found = buckets.read_chunk(body).filter(pl.col(SKU) == sku).sort(ROW)
    return [
        SourceHit(row=row, error=error, pos=pos)
        for row, error, pos in found.select(ROW, ERROR, POS).iter_rows()
    ]


def cells_at(body: bytes, manifest: SourceManifest, pos: int) -> dict[str, str | None]:
    """The raw cells, by header, of the row at ``pos`` from its block's bytes."""
    row = buckets.read_chunk(body).row(pos % manifest.block_rows, named=True)
    return {_header(manifest.headers, name): value for name, value in row.items()}


def first_accepted(hits: Iterable[SourceHit]) -> SourceHit | None:
    return next((hit for hit in hits if hit.error is None), None)


def lookup(index: SourceIndex, sku: str) -> list[SourceHit]:
    """The rows of ``sku`` in an index held in memory (its parts' bytes), read as a stored
    one is: the key bucket, then the cells of the first accepted row."""
    manifest = index.manifest

    def body(chunk: Chunk) -> bytes:
        return index.parts[chunk.part][chunk.offset : chunk.offset + chunk.length]

    hits: list[SourceHit] = []
    for chunk in buckets.chunks_to_read(manifest, sku):
        hits.extend(key_hits(body(chunk), sku))
    hits.sort(key=lambda hit: hit.row)
    kept = first_accepted(hits)
    if kept is None:
        return hits
    cells = cells_at(body(manifest.block_of(kept.pos)), manifest, kept.pos)
    return [with_cells(hit, cells) if hit is kept else hit for hit in hits]


def with_cells(hit: SourceHit, cells: dict[str, str | None]) -> SourceHit:
    return SourceHit(hit.row, hit.error, hit.pos, cells)


def _header(headers: list[str], column: str) -> str:
    """The header of raw cell column ``c<position>`` (the column's name past the headers)."""
    position = int(column[1:])
    return headers[position] if position < len(headers) else column
