"""Where a feed's bytes are: in memory, or in a file that is read in chunks.

A file is not loaded whole: its SHA-256 (and its size and line count) is computed over 1 MiB
chunks, polars reads a UTF-8 CSV from the file itself (memory-mapped), a CSV in another
encoding is transcoded to a temporary UTF-8 file chunk by chunk (at most
``max_decoded_bytes`` of it), and JSONL and XLSX are streamed by row. The exception is a JSON
array: one value, decoded and parsed whole (its size bounded first). Bytes in memory (tests,
small inputs) go through the same readers.

Only text codecs decode a feed (:func:`is_text_codec`): ``bz2_codec``, ``zlib_codec``,
``base64_codec``, ``rot13`` and the like are refused before a byte is read, whatever the
config says (it is validated when stored, and checked again here).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from relay_normalize.domain.limits import FeedLimits, FeedRefused, check_decoded
from relay_normalize.domain.read.raw_table import UnreadableFile

FeedSource = bytes | Path
CHUNK_BYTES = 1 << 20
SCAN_BYTES = 1 << 18
BOM = codecs.BOM_UTF8


@dataclass(frozen=True, slots=True)
class FeedScan:
    """What one pass over the feed's bytes tells: their SHA-256, size and ``\\n`` count."""

    sha256: str
    size: int
    newlines: int


def scan_feed(source: FeedSource) -> FeedScan:
    """The feed's digest, size and line breaks (a file is read chunk by chunk, once)."""
    if isinstance(source, bytes):
        return FeedScan(hashlib.sha256(source).hexdigest(), len(source), source.count(b"\n"))
    digest = hashlib.sha256()
    size = newlines = 0
    buffer = bytearray(SCAN_BYTES)  # one buffer, read into (as hashlib.file_digest does)
    view = memoryview(buffer)
    with source.open("rb") as handle:
        while read := handle.readinto(buffer):
            digest.update(view[:read])
            size += read
            newlines += buffer.count(b"\n", 0, read)
    return FeedScan(digest.hexdigest(), size, newlines)


def is_text_codec(encoding: str) -> bool:
    """True when ``encoding`` names a codec that decodes bytes to text (not ``bz2_codec``,
    ``zlib_codec``, ``base64_codec``, ``hex_codec``, ``uu_codec``, ``quopri_codec`` or
    ``rot13``, which turn bytes into bytes or text into text); False for an unknown name."""
    try:
        return codecs.lookup(encoding)._is_text_encoding
    except LookupError:
        return False


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


@dataclass(frozen=True, slots=True)
class Utf8Feed:
    """The feed as UTF-8: ``data`` (bytes or a file), its ``size`` and ``newlines`` count."""

    data: FeedSource
    size: int
    newlines: int


@contextmanager
def utf8_source(
    source: FeedSource, encoding: str, limits: FeedLimits, scan: FeedScan
) -> Iterator[Utf8Feed]:
    """The feed as UTF-8 (a leading UTF-8 BOM is left for the CSV reader, which drops it).

    UTF-8 is returned as it is (``scan`` is its size and line count); another encoding is
    decoded chunk by chunk into a temporary file, removed on exit (bytes in memory: into new
    bytes). ``UnreadableFile`` when the bytes are not valid in ``encoding``;
    :class:`FeedTooLarge` (``feed_too_large``) as soon as the UTF-8 text exceeds
    ``limits.max_decoded_bytes``, before it is written.
    """
    if is_utf8(encoding):
        check_decoded(scan.size, limits)
        yield Utf8Feed(source, scan.size, scan.newlines)
        return
    if isinstance(source, bytes):
        buffer = io.BytesIO()
        with open_binary(source) as handle:
            size, newlines = _transcode(handle, buffer, encoding, limits)
        yield Utf8Feed(buffer.getvalue(), size, newlines)
        return
    with tempfile.NamedTemporaryFile(suffix=".csv") as target, source.open("rb") as handle:
        size, newlines = _transcode(handle, target, encoding, limits)
        target.flush()
        yield Utf8Feed(Path(target.name), size, newlines)


def _transcode(
    handle: IO[bytes], target: IO[bytes], encoding: str, limits: FeedLimits
) -> tuple[int, int]:
    """Decodes ``handle`` into UTF-8 ``target``; returns the UTF-8 size and ``\\n`` count."""
    if not is_text_codec(encoding):  # never decode with a codec that is not a text one
        raise FeedRefused("unsupported_encoding", repr(encoding[:40]), value=encoding)
    decoder = codecs.getincrementaldecoder(encoding)()
    first = True
    size = newlines = 0

    def write(text: str) -> None:
        nonlocal size, newlines
        data = text.encode("utf-8")
        size += len(data)
        check_decoded(size, limits)
        newlines += data.count(b"\n")
        target.write(data)

    try:
        while chunk := handle.read(CHUNK_BYTES):
            if first and chunk.startswith(BOM):  # a UTF-8 BOM before another encoding
                chunk = chunk[len(BOM) :]
            first = False
            write(decoder.decode(chunk))
        write(decoder.decode(b"", final=True))
    except UnicodeError as exc:
        raise UnreadableFile(f"cannot be decoded as {encoding}") from exc
    return size, newlines


def header_fields(data: FeedSource, delimiter: str, skip_lines: int, stop_after: int) -> int:
    """An upper bound of the header record's width, counted without parsing it: the
    delimiters on its physical line (the line after ``skip_lines`` lines) plus one, read a
    chunk at a time; the count stops once above ``stop_after``. (A quoted delimiter counts
    too; a header spanning lines counts its first line: the table's width is checked again
    once read.)"""
    separator = delimiter.encode("utf-8")
    fields = 1
    to_skip = skip_lines
    with open_binary(data) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            start = 0
            while to_skip:
                at = chunk.find(b"\n", start)
                if at < 0:
                    break
                start, to_skip = at + 1, to_skip - 1
            if to_skip:
                continue
            end = chunk.find(b"\n", start)
            fields += chunk.count(separator, start, len(chunk) if end < 0 else end)
            if end >= 0 or fields > stop_after:
                break
    return fields
