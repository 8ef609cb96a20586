"""Hostile feeds, built cheaply: decompression and zip bombs, deep and huge JSON, wide CSVs,
giant cells (for the engine's bounds and the security suite)."""

from __future__ import annotations

import bz2
import io
import zipfile
from functools import cache

from openpyxl import Workbook

_BZ2_BLOCK_MAGIC = 0x314159265359
_BZ2_END_MAGIC = 0x177245385090
SHEET_NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


@cache
def _bz2_block(zeros: int) -> tuple[int, int, int]:
    """One bz2 block of ``zeros`` zero bytes: its bits, bit length and CRC."""
    one = bz2.compress(b"\0" * zeros, 9)
    total = len(one) * 8
    value = int.from_bytes(one, "big")
    for pad in range(8):  # the stream ends: magic (48 bits), CRC (32), padding to a byte
        end = total - pad
        if (value >> (total - (end - 80) - 48)) & ((1 << 48) - 1) == _BZ2_END_MAGIC:
            break
    else:
        raise AssertionError("no bz2 end-of-stream marker")
    length = end - 80 - 32  # after the 32-bit "BZh9" header
    block = (value >> (total - 32 - length)) & ((1 << length) - 1)
    assert block >> (length - 48) == _BZ2_BLOCK_MAGIC, "not exactly one block"
    return block, length, (block >> (length - 80)) & 0xFFFFFFFF


def bz2_bomb(blocks: int = 50, zeros_per_block: int = 40_000_000) -> bytes:
    """A valid bz2 stream of ``blocks`` identical blocks of zeros: 50 blocks take about 1.8 KB
    and decompress to 2 GB. One block is compressed once; the stream repeats its bits (bz2
    blocks are bit-aligned) and folds the block CRCs into the stream's."""
    block, length, crc = _bz2_block(zeros_per_block)
    stream = int.from_bytes(b"BZh9", "big")
    combined = 0
    for _ in range(blocks):
        stream = (stream << length) | block
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ crc
    stream = (((stream << 48) | _BZ2_END_MAGIC) << 32) | combined
    bits = 32 + blocks * length + 80
    pad = -bits % 8
    return (stream << pad).to_bytes((bits + pad) // 8, "big")


def _workbook_parts(header: list[str]) -> dict[str, bytes]:
    book = Workbook()
    book.active.append(header)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def crafted_workbook(
    sheet_xml: bytes, *, shared_strings: bytes | None = None, header: list[str] | None = None
) -> bytes:
    """A real workbook (openpyxl's parts) whose first sheet is ``sheet_xml`` (and whose shared
    strings are ``shared_strings``)."""
    parts = _workbook_parts(header or ["SKU", "QTY"])
    parts["xl/worksheets/sheet1.xml"] = sheet_xml
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
        types = parts["[Content_Types].xml"]
        if b"sharedStrings" not in types:
            override = (
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            )
            parts["[Content_Types].xml"] = types.replace(b"</Types>", override + b"</Types>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def sheet(rows: bytes, dimension: bytes | None = None) -> bytes:
    ref = b"" if dimension is None else b'<dimension ref="' + dimension + b'"/>'
    return SHEET_NS + ref + b"<sheetData>" + rows + b"</sheetData></worksheet>"


def inline_row(number: int, *cells: str) -> bytes:
    body = b"".join(
        b'<c t="inlineStr"><is><t>' + text.encode() + b"</t></is></c>" for text in cells
    )
    return b'<row r="%d">' % number + body + b"</row>"


def xlsx_zip_bomb(unpacked_bytes: int, *, compresslevel: int = 1) -> bytes:
    """A workbook whose sheet XML unpacks to more than ``unpacked_bytes`` (repeated rows,
    streamed into the zip compressed: 1.2 GB take about 8 MB and a second or two)."""
    parts = _workbook_parts(["SKU", "QTY"])
    row = b'<row><c t="inlineStr"><is><t>A</t></is></c><c><v>1</v></c></row>'
    block = row * (1 << 14)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                zf.writestr(name, data)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(SHEET_NS + b"<sheetData>")
            written = 0
            while written <= unpacked_bytes:
                member.write(block)
                written += len(block)
            member.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def deep_json(depth: int, *, jsonl: bool = False) -> bytes:
    """One row whose ``extra`` cell nests ``depth`` arrays (a JSON array of it, or a line)."""
    row = b'{"SKU": "A", "QTY": "1", "COST": "1", "extra": ' + b"[" * depth + b"]" * depth + b"}"
    return row + b"\n" if jsonl else b"[" + row + b"]"


def json_array(rows: int) -> bytes:
    """A JSON array of ``rows`` small, valid rows (about 40 bytes each)."""
    row = b'{"SKU": "SKU-%07d", "QTY": "%d", "COST": "1.00"}'
    return b"[" + b",".join(row % (i, i % 9) for i in range(rows)) + b"]"


def wide_csv(columns: int, rows: int = 2) -> bytes:
    header = ",".join(["SKU", "QTY", "COST", *(f"c{i}" for i in range(columns - 3))])
    body = "".join(f"A{i},1,1.00" + "," * (columns - 3) + "\n" for i in range(rows))
    return f"{header}\n{body}".encode()


def giant_cell_csv(cell_bytes: int, *, row: int = 3) -> bytes:
    """``SKU,QTY,COST,TITLE`` with a ``cell_bytes``-byte title on row ``row``."""
    lines = ["SKU,QTY,COST,TITLE"]
    for number in range(2, row + 2):
        title = "t" * cell_bytes if number == row else "short"
        lines.append(f"A{number},1,1.00,{title}")
    return ("\n".join(lines) + "\n").encode()
