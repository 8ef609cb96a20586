"""The bounds of one feed (relay_normalize.domain.limits), each through ``normalize_feed`` with
exact codes and messages: codecs that are not text encodings, decoded size, rows, columns,
cells, JSONL lines, JSON nesting, zip bombs, and the memory estimate."""

from __future__ import annotations

import io
import re
import struct
import tracemalloc
import zipfile
from typing import Any

import pytest

from relay_normalize.domain import FeedLimits, NormalizedFeed, normalize_feed
from relay_normalize.domain.limits import (
    MEMORY,
    FeedTooLarge,
    TableGuard,
    json_document_limit,
    table_memory,
)
from relay_normalize.settings import NormalizeSettings
from relay_shared.tenant_config import TenantConfig

from .engine_support import AS_OF, make_config, vendor
from .feed_bombs import (
    bz2_bomb,
    crafted_workbook,
    deep_json,
    giant_cell_csv,
    inline_row,
    sheet,
    wide_csv,
    xlsx_zip_bomb,
)

COLUMNS = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
WITH_TITLE = {**COLUMNS, "title": "TITLE"}
SKU_QTY = {"sku": "SKU", "quantity_available": "QTY"}
NOT_TEXT_CODECS = [
    "bz2_codec",
    "zlib_codec",
    "base64_codec",
    "hex_codec",
    "rot13",
    "uu_codec",
    "quopri_codec",
]


def config(fmt: str = "csv", columns: dict[str, str] = COLUMNS, **parser: Any) -> TenantConfig:
    return make_config(
        [vendor(parser={"format": fmt, "column_map": dict(columns), **parser})],
        error_policy={"max_invalid_row_pct": "1"},
    )


def with_encoding(base: TenantConfig, encoding: str) -> TenantConfig:
    """The config as a store could hold it from before the validator refused such codecs
    (model_copy does not validate)."""
    old = base.vendors[0]
    parser = old.parser.model_copy(update={"encoding": encoding})
    return base.model_copy(update={"vendors": [old.model_copy(update={"parser": parser})]})


def run(raw: bytes, base: TenantConfig | None = None, **limits: int) -> NormalizedFeed:
    return normalize_feed(
        raw,
        config=base or config(),
        vendor_id="v1",
        as_of=AS_OF,
        sku_map=None,
        limits=FeedLimits(**limits),
    )


def failure(feed: NormalizedFeed) -> tuple[Any, ...]:
    return (
        feed.status,
        feed.failure_code,
        [(e.row, e.column, e.code, e.message, e.value) for e in feed.errors],
    )


def refused(code: str, message: str, *, row: int | None = None, column: str | None = None,
            value: str | None = None) -> tuple[Any, ...]:  # fmt: skip
    return ("failed", code, [(row, column, code, message, value)])


def csv_rows(count: int) -> bytes:
    return ("SKU,QTY,COST\n" + "".join(f"A{i},1,2.50\n" for i in range(count))).encode()


def jsonl_rows(count: int) -> bytes:
    return b"".join(b'{"SKU": "A%d", "QTY": "1", "COST": "2.50"}\n' % i for i in range(count))


def json_rows(count: int) -> bytes:
    rows = (b'{"SKU": "A%d", "QTY": "1", "COST": "2.50"}' % i for i in range(count))
    return b"[" + b",".join(rows) + b"]"


def xlsx_rows(count: int, width: int = 3) -> bytes:
    header = inline_row(1, *["SKU", "QTY", "COST", *(f"c{i}" for i in range(width - 3))])
    rows = b"".join(inline_row(n, f"A{n}", "1", "2.50") for n in range(2, count + 2))
    return crafted_workbook(sheet(header + rows))


# --- codecs -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
@pytest.mark.parametrize("codec", [*NOT_TEXT_CODECS, "no-such-codec"])
def test_a_codec_that_is_not_a_text_encoding_fails_the_feed_unread(fmt: str, codec: str) -> None:
    feed = run(b"SKU,QTY\nA,1\n", with_encoding(config(fmt), codec))
    message = f"the configured encoding is not a text encoding: {codec!r}"
    assert failure(feed) == refused("unsupported_encoding", message, value=codec)
    assert feed.stats.rows == 0


def test_a_bz2_bomb_is_refused_before_a_byte_is_decompressed() -> None:
    """1.8 KB that bz2_codec would turn into 2 GB: refused at once, with next to no memory."""
    bomb = bz2_bomb(50)
    assert len(bomb) < 2_048
    tracemalloc.start()
    try:
        feed = run(bomb, with_encoding(config("json"), "bz2_codec"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert feed.failure_code == "unsupported_encoding"
    assert peak < 1_000_000


def test_text_codecs_still_read() -> None:
    text = "SKU,QTY,COST,TITLE\nA,1,2,Grüße\n"
    for codec in ("utf-16", "cp1252", "latin-1", "utf-8-sig"):
        feed = run(text.encode(codec), with_encoding(config(), codec))
        assert (feed.status, feed.stats.accepted) == ("ok", 1), codec


# --- decoded size -----------------------------------------------------------------------


def test_a_csv_above_the_decoded_limit_fails_before_it_is_parsed() -> None:
    raw = csv_rows(5)
    assert run(raw, max_decoded_bytes=len(raw)).status == "ok"
    message = f"the feed is too large: its decoded text exceeds the limit of {len(raw) - 1} bytes"
    assert failure(run(raw, max_decoded_bytes=len(raw) - 1)) == refused("feed_too_large", message)


def test_a_transcoded_csv_is_bounded_by_its_utf8_size() -> None:
    """60 bytes of cp1252 "é" become 120 bytes of UTF-8: the transcoding stops at the limit."""
    raw = ("SKU,QTY,COST\nA,1,2," + "é" * 60 + "\n").encode("cp1252")
    base = with_encoding(config(), "cp1252")
    assert len(raw) < 100 < len(raw.decode("cp1252").encode())
    message = "the feed is too large: its decoded text exceeds the limit of 100 bytes"
    assert failure(run(raw, base, max_decoded_bytes=100)) == refused("feed_too_large", message)
    assert run(raw, base, max_decoded_bytes=200).status == "ok"


def test_a_jsonl_file_is_bounded_by_the_characters_read() -> None:
    raw = jsonl_rows(10)
    message = "the feed is too large: its decoded text exceeds the limit of 100 bytes"
    assert failure(run(raw, config("jsonl"), max_decoded_bytes=100)) == refused(
        "feed_too_large", message
    )


def test_a_json_array_above_what_the_memory_cap_can_parse_is_refused_unparsed() -> None:
    raw = json_rows(20)
    cap = MEMORY.fixed + 100 * MEMORY.per_json_char
    assert json_document_limit(FeedLimits(max_memory_bytes=cap)) == 100
    message = (
        "the feed is too large: a JSON array is parsed whole and may have at most 100"
        f" characters under the memory cap of {cap} bytes; JSONL is read line by line"
    )
    assert failure(run(raw, config("json"), max_memory_bytes=cap)) == refused(
        "feed_too_large", message
    )


def test_an_xlsx_zip_bomb_is_refused_from_its_zip_directory() -> None:
    bomb = xlsx_zip_bomb(4 << 20)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    assert unpacked > 30 * len(bomb)
    message = (
        f"the feed is too large: the workbook unpacks to {unpacked} bytes, above the limit of"
        f" {1 << 20}"
    )
    assert failure(run(bomb, config("xlsx"), max_decoded_bytes=1 << 20)) == refused(
        "feed_too_large", message
    )


def test_a_workbook_whose_zip_directory_understates_a_size_is_unreadable_not_an_error() -> None:
    """Python's zipfile unpacks no more than the directory declares, then fails the CRC."""
    raw = bytearray(xlsx_rows(50))
    at = raw.index(b"PK\x01\x02")
    while True:  # the central directory entry of the sheet
        name_length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + name_length] == b"xl/worksheets/sheet1.xml":
            break
        at = raw.index(b"PK\x01\x02", at + 4)
    size = struct.unpack_from("<I", raw, at + 24)[0]
    struct.pack_into("<I", raw, at + 24, size // 2)
    feed = run(bytes(raw), config("xlsx"))
    assert (feed.status, feed.failure_code) == ("failed", "unparseable_file")


def test_a_zip_directory_too_large_for_the_memory_cap_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(3_000):
            archive.writestr(f"junk/{index}", b"")
    cap = MEMORY.fixed + 2_000 * MEMORY.per_zip_entry
    estimate = MEMORY.fixed + 3_000 * MEMORY.per_zip_entry
    message = (
        f"the feed is too large: a zip directory of 3000 entries needs about {estimate} bytes"
        f" of memory, above the cap of {cap}"
    )
    feed = run(buffer.getvalue(), config("xlsx"), max_memory_bytes=cap)
    assert failure(feed) == refused("feed_too_large", message)


# --- rows -------------------------------------------------------------------------------

ROWS_MESSAGE = "the feed has too many rows: more than the limit of 3 rows"


@pytest.mark.parametrize(
    ("fmt", "raw", "row"),
    [
        ("csv", csv_rows(5), 5),  # header row 1: the 4th data row is row 5
        ("csv", csv_rows(5).replace(b"A3,1,2.50", b'A3,1,2.50"'), 5),  # the tolerant reader
        ("jsonl", jsonl_rows(5), 4),
        ("json", json_rows(5), 4),
        ("xlsx", xlsx_rows(5), 5),
    ],
)
def test_a_feed_with_more_rows_than_the_limit_fails_at_the_first_row_beyond(
    fmt: str, raw: bytes, row: int
) -> None:
    assert failure(run(raw, config(fmt), max_rows=3)) == refused(
        "too_many_rows", ROWS_MESSAGE, row=row
    )
    assert run(raw, config(fmt), max_rows=5).status == "ok"


def test_rows_are_counted_below_the_header_row() -> None:
    raw = b"exported\n\n" + csv_rows(5)
    feed = run(raw, config(header_row=3), max_rows=3)
    assert failure(feed) == refused("too_many_rows", ROWS_MESSAGE, row=7)


def test_a_sheet_that_skips_to_a_far_row_is_bounded_as_it_streams() -> None:
    rows = inline_row(1, "SKU", "QTY") + inline_row(9_000_000, "A", "1")
    feed = run(crafted_workbook(sheet(rows)), config("xlsx"), max_rows=1_000)
    message = "the feed has too many rows: more than the limit of 1000 rows"
    assert failure(feed) == refused("too_many_rows", message, row=1_002)


# --- columns ----------------------------------------------------------------------------


def test_a_csv_header_wider_than_the_limit_fails_before_it_is_parsed() -> None:
    message = "the feed has too many columns: the header has 1001 columns, above the limit of 1000"
    assert failure(run(wide_csv(1_001))) == refused("too_many_columns", message)
    assert run(wide_csv(1_000)).status == "ok"


def test_json_keys_beyond_the_column_limit_fail_at_their_row() -> None:
    raw = b'{"SKU": "A", "QTY": "1"}\n{"SKU": "B", "QTY": "1", "c": "x"}\n'
    message = "the feed has too many columns: row 2 has 3 columns, above the limit of 2"
    assert failure(run(raw, config("jsonl", SKU_QTY), max_columns=2)) == refused(
        "too_many_columns", message, row=2
    )


def test_a_sheet_wider_than_the_limit_fails_at_its_header_row() -> None:
    message = "the feed has too many columns: row 1 has 5 columns, above the limit of 4"
    assert failure(run(xlsx_rows(2, width=5), config("xlsx"), max_columns=4)) == refused(
        "too_many_columns", message, row=1
    )


def test_a_sheet_declaring_excel_s_full_width_fails_at_its_first_row() -> None:
    """openpyxl pads every row to the declared dimension (XFD = 16,384 columns)."""
    raw = crafted_workbook(sheet(inline_row(1, "SKU", "QTY"), b"A1:XFD3"))
    message = "the feed has too many columns: row 1 has 16384 columns, above the limit of 1000"
    assert failure(run(raw, config("xlsx"))) == refused("too_many_columns", message, row=1)


# --- cells ------------------------------------------------------------------------------


def test_a_cell_larger_than_the_limit_fails_with_its_row_and_column() -> None:
    message = "a cell is too large: column 'TITLE' holds 11 bytes, above the limit of 10"
    feed = run(giant_cell_csv(11), config(columns=WITH_TITLE), max_cell_bytes=10)
    assert failure(feed) == refused(
        "cell_too_large", message, row=3, column="title", value="t" * 11
    )
    assert run(giant_cell_csv(10), config(columns=WITH_TITLE), max_cell_bytes=10).status == "ok"


def test_a_cell_is_measured_in_utf8_bytes_and_an_unmapped_column_is_named() -> None:
    raw = "SKU,QTY,COST,NOTE\nA,1,2,ok\nB,1,2,éééééé\n".encode()
    message = "a cell is too large: column 'NOTE' holds 12 bytes, above the limit of 10"
    assert failure(run(raw, max_cell_bytes=10)) == refused(
        "cell_too_large", message, row=3, value="éééééé"
    )


def test_a_header_larger_than_the_limit_fails() -> None:
    raw = b"SKU,QTY,COST," + b"H" * 20 + b"\nA,1,2,x\n"
    message = f"a cell is too large: the header {'H' * 20!r} holds 20 bytes, above the limit of 10"
    assert failure(run(raw, max_cell_bytes=10)) == refused("cell_too_large", message)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "xlsx"])
def test_giant_cells_are_bounded_in_every_format(fmt: str) -> None:
    title = "t" * 70_000
    raw = {
        "json": b'[{"SKU": "A", "QTY": "1"}, {"SKU": "B", "QTY": "1", "TITLE": "%s"}]'
        % title.encode(),
        "jsonl": b'{"SKU": "A", "QTY": "1"}\n{"SKU": "B", "QTY": "1", "TITLE": "%s"}\n'
        % title.encode(),
        "xlsx": crafted_workbook(
            sheet(inline_row(1, "SKU", "QTY", "TITLE") + inline_row(2, "A", "1", title))
        ),
    }[fmt]
    feed = run(raw, config(fmt, {**SKU_QTY, "title": "TITLE"}))
    message = "a cell is too large: column 'TITLE' holds 70000 bytes, above the limit of 65536"
    row = 2
    assert failure(feed) == refused(
        "cell_too_large", message, row=row, column="title", value="t" * 200
    )


# --- JSONL lines and JSON nesting ---------------------------------------------------------


def test_a_jsonl_line_longer_than_the_limit_fails_unparsed() -> None:
    line = b'{"SKU": "B", "QTY": "1", "COST": "12.50"}'
    raw = b'{"SKU": "A", "QTY": "1", "COST": "1"}\n' + line + b"\n"
    message = (
        f"a JSONL line is too long: line 2 is longer than the limit of {len(line) - 1} characters"
    )
    assert failure(run(raw, config("jsonl"), max_line_bytes=len(line) - 1)) == refused(
        "line_too_long", message, row=2
    )
    assert run(raw, config("jsonl"), max_line_bytes=len(line)).status == "ok"
    assert run(raw.rstrip(b"\n"), config("jsonl"), max_line_bytes=len(line)).status == "ok"


@pytest.mark.parametrize(("jsonl", "levels_above"), [(False, 2), (True, 1)])
def test_json_nested_deeper_than_the_limit_fails(jsonl: bool, levels_above: int) -> None:
    """The array of a JSON document and a row's object are levels too."""
    fmt = "jsonl" if jsonl else "json"
    allowed = 64 - levels_above
    assert run(deep_json(allowed, jsonl=jsonl), config(fmt)).status == "ok"
    message = (
        "the JSON is nested too deep: row 1 (key 'extra') is nested deeper than the limit of"
        " 64 levels"
    )
    assert failure(run(deep_json(allowed + 1, jsonl=jsonl), config(fmt))) == refused(
        "nesting_too_deep", message, row=1
    )


@pytest.mark.parametrize("jsonl", [False, True])
def test_json_nested_deeper_than_the_parser_can_go_fails_as_a_finding(jsonl: bool) -> None:
    """Python's parser gives up (RecursionError) long before memory runs out: a finding."""
    feed = run(deep_json(200_000, jsonl=jsonl), config("jsonl" if jsonl else "json"))
    where = "row 1" if jsonl else "the document"
    message = f"the JSON is nested too deep: {where} is nested deeper than the limit of 64 levels"
    assert failure(feed) == refused("nesting_too_deep", message, row=1 if jsonl else None)


# --- memory -----------------------------------------------------------------------------


def test_a_csv_whose_memory_estimate_is_above_the_cap_fails_before_it_is_parsed() -> None:
    raw = csv_rows(3)  # 4 lines, a final line break: 5 lines at most, 3 columns
    estimate = table_memory(5, 3, len(raw))
    assert run(raw, max_memory_bytes=estimate).status == "ok"
    message = (
        f"the feed is too large: reading 5 lines of 3 columns needs about {estimate} bytes of"
        f" memory, above the cap of {estimate - 1}"
    )
    assert failure(run(raw, max_memory_bytes=estimate - 1)) == refused("feed_too_large", message)


def test_a_feed_s_findings_are_charged_before_they_are_built() -> None:
    raw = b"SKU,QTY,COST\n" + b"".join(b"A%d,-1,2.50\n" % i for i in range(100))
    table = table_memory(102, 3, len(raw))
    cleaning = 100 * MEMORY.per_dirty_row  # "-1" is outside the fast shape
    findings = 100 * MEMORY.per_finding  # negative_quantity, each row
    assert run(raw, max_memory_bytes=table + cleaning + findings).status == "ok"
    message = (
        f"the feed is too large: reporting 100 findings needs about {table + cleaning + findings}"
        f" bytes of memory, above the cap of {table + cleaning + findings - 1}"
    )
    assert failure(run(raw, max_memory_bytes=table + cleaning + findings - 1)) == refused(
        "feed_too_large", message
    )
    message = (
        f"the feed is too large: cleaning 100 rows cell by cell needs about {table + cleaning}"
        f" bytes of memory, above the cap of {table + cleaning - 1}"
    )
    assert failure(run(raw, max_memory_bytes=table + cleaning - 1)) == refused(
        "feed_too_large", message
    )


def test_a_streamed_feed_stops_as_soon_as_its_estimate_passes_the_cap() -> None:
    cap = MEMORY.fixed + 40 * (MEMORY.per_row + 2 * MEMORY.per_cell)
    feed = run(jsonl_rows(100), config("jsonl"), max_memory_bytes=cap)
    assert (feed.status, feed.failure_code) == ("failed", "feed_too_large")
    (item,) = feed.errors
    found = re.fullmatch(
        r"the feed is too large: reading it(?: up to row (\d+))? needs about (\d+) bytes of"
        rf" memory, above the cap of {cap}",
        item.message,
    )
    assert found is not None, item.message
    assert int(found[2]) > cap
    assert found[1] is None or int(found[1]) < 40


def test_shared_strings_repeated_in_a_sheet_are_counted_as_they_stream() -> None:
    """One 60 KB shared string, referenced by 200,000 cells: 12 GB of text from a few MB of
    XML. The estimate stops it after a few thousand rows."""
    shared = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1"'
        b' uniqueCount="1"><si><t>' + b"s" * 60_000 + b"</t></si></sst>"
    )
    rows = inline_row(1, "SKU", "QTY", "TITLE") + b"".join(
        b'<row r="%d"><c r="A%d" t="s"><v>0</v></c></row>' % (n, n) for n in range(2, 200_002)
    )
    feed = run(crafted_workbook(sheet(rows), shared_strings=shared), config("xlsx"))
    assert (feed.status, feed.failure_code) == ("failed", "feed_too_large")
    assert feed.errors[0].message.startswith("the feed is too large: reading it")


# --- the limits themselves --------------------------------------------------------------


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_rows must be at least 1"):
        FeedLimits(max_rows=0)


def test_a_guard_names_the_first_row_beyond_the_limit() -> None:
    guard = TableGuard(FeedLimits(max_rows=2))
    guard.row(10, 3)
    guard.row(11, 3)
    with pytest.raises(FeedTooLarge) as raised:
        guard.row(12, 3)
    assert (raised.value.code, raised.value.row) == ("too_many_rows", 12)


def test_the_service_reads_its_limits_from_app_variables() -> None:
    settings = NormalizeSettings.from_env(
        {
            "APP_NORMALIZE_MAX_DECODED_BYTES": "1000",
            "APP_NORMALIZE_MAX_ROWS": "10",
            "APP_NORMALIZE_MAX_COLUMNS": "5",
            "APP_NORMALIZE_MAX_CELL_BYTES": "100",
            "APP_NORMALIZE_MAX_LINE_BYTES": "200",
            "APP_NORMALIZE_MAX_JSON_DEPTH": "8",
            "APP_NORMALIZE_MAX_FEED_MEMORY_BYTES": "123456789",
            "APP_NORMALIZE_MAX_SKU_MAP_BYTES": "4096",
        }
    )
    assert settings.feed_limits() == FeedLimits(
        max_decoded_bytes=1000,
        max_rows=10,
        max_columns=5,
        max_cell_bytes=100,
        max_line_bytes=200,
        max_json_depth=8,
        max_memory_bytes=123_456_789,
        max_sku_map_bytes=4096,
    )
    assert NormalizeSettings.from_env({}).feed_limits() == FeedLimits()
