"""The normalized offers as Parquet: the services' hand-off from normalize to pricing.

The merchant-facing normalized CSV (:mod:`.normalized_csv`) stays as it is; beside it the
services store the same frame (:func:`~.normalized_csv.offers_frame`: typed, money in integer
cents, :data:`NORMALIZED_COLUMNS` order) as Parquet, which pricing reads back column by column
without parsing text. Both are written from the one frame, so they hold the same rows.

LZ4 pages: about a third of the CSV's bytes on catalogue-shaped feeds and the fastest of
polars' codecs to read back; no column statistics (nothing filters on them). A replayed handler
rewrites the same rows (the bytes may differ with how polars chunked the frame: nothing compares
them, pricing reads the rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import polars as pl

#: The Parquet hand-off's name beside the normalized CSV (``.../{scope}/normalized.csv``).
HANDOFF_NAME = "normalized.parquet"


def handoff_key(normalized_key: str) -> str:
    """The key of the Parquet hand-off stored beside the normalized CSV at ``normalized_key``."""
    folder, _, _ = normalized_key.rpartition("/")
    return f"{folder}/{HANDOFF_NAME}" if folder else HANDOFF_NAME


def write_offers_parquet(offers: pl.DataFrame, into: str | Path | IO[bytes]) -> None:
    """Writes an :func:`~.normalized_csv.offers_frame` as Parquet into a file or stream."""
    offers.write_parquet(into, compression="lz4", statistics=False)
