"""The bucketed layout both explain indexes share (pricing's offers, normalize's rows as read).

The rows are spread over ``buckets`` by a hash of their SKU; each bucket's rows are one LZ4
Arrow IPC stream, and the buckets are stored one after another in data parts of about
``part_bytes``. A manifest keeps each bucket's part and byte range (column-wise: a long
manifest parses faster so) and a few SKUs with their buckets. A lookup reads one bucket: one
ranged GET, whatever the size of the index.

A bucket is an IPC stream, not an IPC file: polars writes a file through its streaming sink,
which cost about 1.2 ms a bucket against 0.7 ms for a stream (a 1M-row run's 618 buckets of
512 SKUs: 1.2 s of pricing's run against 0.75 s, measured). Indexes written before hold IPC files; a
reader tells them apart by the file's magic bytes (:func:`read_chunk`).

The hash is polars' with fixed seeds, stable for one polars version. A reader whose hash
disagrees with the probes (another polars version) reads every bucket instead (slower,
still right).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

_SEEDS = (0x5EED, 0x0BAD, 0xCAFE, 0xF00D)
_IPC_FILE_MAGIC = b"ARROW1"
#: The content type a data part is stored under (its buckets are Arrow IPC streams).
PART_CONTENT_TYPE = "application/vnd.apache.arrow.stream"
_PROBES = 8
_BUCKET = "__bucket"
#: Threads encoding an index's frames at once (:meth:`PartWriter.add_all`). On two cores,
#: the catalogue bench's explain index (1M rows, 41 MB) took 0.42 s of wall time to encode
#: against 0.53 s one by one, and a 200k-row feed's index of its rows as read 0.11 s against
#: 0.16 s; the same bytes (measured). More threads than cores would only share them.
ENCODERS = 2


def bucket_of(skus: pl.Expr, buckets: int) -> pl.Expr:
    """The bucket of each SKU among ``buckets``."""
    return (skus.hash(*_SEEDS) % buckets).cast(pl.Int64)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Where one bucket's rows are: its part and byte range in it."""

    part: int
    offset: int
    length: int


class BucketLayout(BaseModel):
    """Where a manifest's SKU buckets are (what :func:`encode_buckets` returns): the fields
    both explain manifests (pricing's offers, normalize's rows as read) carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    buckets: int = 0
    probe_skus: list[str] = []
    probe_buckets: list[int] = []
    bucket_part: list[int] = []
    bucket_offset: list[int] = []
    bucket_length: list[int] = []


def hash_agrees(layout: BucketLayout) -> bool:
    """True when this process puts the probe SKUs in the buckets the writer did."""
    if not layout.probe_skus:
        return True
    probes = pl.lit(pl.Series(layout.probe_skus, dtype=pl.String))
    found = pl.select(bucket_of(probes, layout.buckets))
    return found.to_series().to_list() == layout.probe_buckets


def chunk_for(layout: BucketLayout, sku: str) -> Chunk | None:
    """Where the rows of ``sku`` are, if any can be (the index has rows)."""
    if not layout.buckets:
        return None
    found = pl.select(bucket_of(pl.lit(pl.Series([sku], dtype=pl.String)), layout.buckets))
    return _chunk(layout, int(found.item()))


def chunks_to_read(layout: BucketLayout, sku: str) -> list[Chunk]:
    """The chunks a lookup of ``sku`` reads: its bucket's, or every one when the hash
    disagrees with the writer's."""
    if hash_agrees(layout):
        chunk = chunk_for(layout, sku)
        return [] if chunk is None else [chunk]
    return every_chunk(layout)


def every_chunk(layout: BucketLayout) -> list[Chunk]:
    return [chunk for b in range(layout.buckets) if (chunk := _chunk(layout, b)) is not None]


def _chunk(layout: BucketLayout, bucket: int) -> Chunk | None:
    if not layout.bucket_length[bucket]:
        return None
    return Chunk(
        layout.bucket_part[bucket], layout.bucket_offset[bucket], layout.bucket_length[bucket]
    )


Compression = Literal["uncompressed", "lz4", "zstd"]


class PartWriter:
    """Writes frames (each one Arrow IPC stream) one after another into data parts of about
    ``part_bytes``, handing each part's bytes to ``hand_over`` once it is complete (each
    file is written into a buffer of its own: a part's bytes are copied once, when joined).

    :meth:`add_all` encodes a sequence of frames on :data:`ENCODERS` threads at once and
    places them in order, so its bytes are those :meth:`add` would write one by one."""

    def __init__(
        self, hand_over: Callable[[bytes], object], part_bytes: int, compression: Compression
    ) -> None:
        self._hand_over = hand_over
        self._part_bytes = part_bytes
        self._compression: Compression = compression
        self._handed = 0
        self._files: list[memoryview] = []
        self._size = 0

    def add(self, frame: pl.DataFrame | None) -> Chunk:
        """Where ``frame`` is stored (an empty chunk for None)."""
        return self._place(self._encode(frame))

    def add_all(self, frames: Iterable[pl.DataFrame | None]) -> list[Chunk]:
        """Where each of ``frames`` is stored, in order (:meth:`add` of each). Polars
        encodes and compresses a stream without holding the GIL (it takes it only to hand
        the bytes to the buffer), so :data:`ENCODERS` threads encode at once; each frame is
        placed as soon as it and those before it are encoded."""
        with ThreadPoolExecutor(ENCODERS, thread_name_prefix="explain-encode") as pool:
            return [self._place(data) for data in pool.map(self._encode, frames)]

    def _encode(self, frame: pl.DataFrame | None) -> memoryview | None:
        if frame is None:
            return None
        data = io.BytesIO()
        frame.write_ipc_stream(data, compression=self._compression)
        return data.getbuffer()

    def _place(self, data: memoryview | None) -> Chunk:
        offset = self._size
        if data is not None:
            self._files.append(data)
            self._size += len(data)
        chunk = Chunk(self._handed, offset, self._size - offset)
        if self._size >= self._part_bytes:
            self.close()
            self._handed += 1
        return chunk

    def close(self) -> None:
        """Hands the part being filled over (if it holds anything)."""
        if self._size:
            self._hand_over(b"".join(self._files))
            self._files, self._size = [], 0


def encode_buckets(
    frame: pl.DataFrame,
    count: int,
    hand_over: Callable[[bytes], object],
    part_bytes: int,
    compression: Compression = "lz4",
) -> dict[str, object]:
    """Hands each data part's bytes to ``hand_over`` as soon as it is complete; returns the
    layout's manifest fields. ``frame`` has a ``sku`` column; its rows are grouped by bucket
    (one integer sort), each bucket's rows one Arrow IPC stream, a part closed once it holds
    ``part_bytes``."""
    parts = PartWriter(hand_over, part_bytes, compression)
    layout = write_buckets(frame, count, parts)
    parts.close()
    return layout


def write_buckets(
    frame: pl.DataFrame, count: int, parts: PartWriter, *, partition: bool = False
) -> dict[str, object]:
    """:func:`encode_buckets` into ``parts`` (left open). With ``partition`` the rows are
    split by bucket with a partition instead of a sort (a few times cheaper on narrow rows,
    measured; a bucket's rows keep their order, so the bytes are the same on a replay)."""
    bucket = bucket_of(pl.col("sku"), count).alias(_BUCKET)
    if partition:
        groups = frame.with_columns(bucket).partition_by(_BUCKET, maintain_order=True, as_dict=True)
        by_bucket = {key[0]: group.drop(_BUCKET) for key, group in groups.items()}
        pieces = [by_bucket.get(b) for b in range(count)]
    else:
        frame = frame.with_columns(bucket).sort(_BUCKET)
        bounds = frame.get_column(_BUCKET).search_sorted(pl.Series(range(count + 1)), "left")
        frame = frame.drop(_BUCKET)
        pieces = [
            frame.slice(bounds[b], bounds[b + 1] - bounds[b]) if bounds[b + 1] > bounds[b] else None
            for b in range(count)  # views
        ]
    chunks = parts.add_all(pieces)
    where = {
        "bucket_part": [chunk.part for chunk in chunks],
        "bucket_offset": [chunk.offset for chunk in chunks],
        "bucket_length": [chunk.length for chunk in chunks],
    }
    probes = frame.get_column("sku").head(_PROBES).unique(maintain_order=True)
    probed = pl.select(bucket_of(pl.lit(probes), count)).to_series().to_list()
    return {"buckets": count, "probe_skus": probes.to_list(), "probe_buckets": probed, **where}


def read_chunk(body: bytes) -> pl.DataFrame:
    """One bucket's rows from its bytes: an Arrow IPC stream, or the IPC file an index written
    before streams holds."""
    if body.startswith(_IPC_FILE_MAGIC):
        return pl.read_ipc(io.BytesIO(body), memory_map=False)
    return pl.read_ipc_stream(io.BytesIO(body))
