"""Where a feed's bytes are: in memory, or in a file that is read in chunks.

A file is not loaded whole: its SHA-256 is computed over 1 MiB chunks, polars reads a UTF-8
CSV from the file itself (memory-mapped), a CSV in another encoding is transcoded to a
temporary UTF-8 file chunk by chunk, and JSONL and XLSX are streamed by row. The exception is
a JSON array: one value, decoded and parsed whole. Bytes in memory (tests, small inputs) go
through the same readers.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from relay_normalize.domain.raw_table import UnreadableFile

FeedSource = bytes | Path
CHUNK_BYTES = 1 << 20
BOM = codecs.BOM_UTF8


def feed_digest(source: FeedSource) -> str:
    """The SHA-256 of the feed's bytes (a file is hashed chunk by chunk)."""
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    with source.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@contextmanager
def open_binary(source: FeedSource) -> Iterator[IO[bytes]]:
    """A binary stream over the feed."""
    if isinstance(source, bytes):
        yield io.BytesIO(source)
        return
    with source.open("rb") as handle:
        yield handle


def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


@contextmanager
def utf8_source(source: FeedSource, encoding: str) -> Iterator[FeedSource]:
    """The feed as UTF-8 (a leading UTF-8 BOM is left for the CSV reader, which drops it).

    UTF-8 is returned as it is; another encoding is decoded chunk by chunk into a temporary
    file, removed on exit (bytes in memory: into new bytes). ``UnreadableFile`` when the
    bytes are not valid in ``encoding``.
    """
    if is_utf8(encoding):
        yield source
        return
    if isinstance(source, bytes):
        buffer = io.BytesIO()
        with open_binary(source) as handle:
            _transcode(handle, buffer, encoding)
        yield buffer.getvalue()
        return
    with tempfile.NamedTemporaryFile(suffix=".csv") as target, source.open("rb") as handle:
        _transcode(handle, target, encoding)
        target.flush()
        yield Path(target.name)


def _transcode(handle: IO[bytes], target: IO[bytes], encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    first = True
    try:
        while chunk := handle.read(CHUNK_BYTES):
            if first and chunk.startswith(BOM):  # a UTF-8 BOM before another encoding
                chunk = chunk[len(BOM) :]
            first = False
            target.write(decoder.decode(chunk).encode("utf-8"))
        target.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeError as exc:
        raise UnreadableFile(f"cannot be decoded as {encoding}") from exc
