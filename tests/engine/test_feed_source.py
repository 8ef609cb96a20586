"""A feed read from its file (as local-run and the service do) equals the same bytes read
from memory, for every format; a file is never loaded whole into Python memory; and rows
built a chunk at a time give the same table as rows built at once."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from relay_normalize.domain import NormalizedFeed, normalize_feed
from relay_normalize.domain.read import feed_source, raw_table
from relay_normalize.domain.read.feed_source import scan_feed
from relay_shared.tenant_config import TenantConfig
from tests.golden.golden_cases import ROOT as GOLDEN

from .engine_support import AS_OF, make_config, vendor

GOLDEN_FEEDS = [
    ("eu_latin1_semicolon", "grosshandel", "inputs/grosshandel.csv"),  # cp1252, header row 3
    ("us_bom_crlf_multiline", "westcoast", "inputs/westcoast.csv"),  # BOM, CRLF, quoted \n
    ("xlsx_workbook", "supplier", "inputs/supplier.xlsx"),
    ("json_and_jsonl", "api_json", "inputs/api.json"),
    ("json_and_jsonl", "stream_jsonl", "inputs/stream.jsonl"),
]


def _golden_config(case: str) -> TenantConfig:
    from relay_cli.local_run_args import load_config

    return load_config(GOLDEN / case / "tenant.yaml")


def _sku_map(case: str, vendor_id: str, config: TenantConfig) -> bytes | None:
    sku_map = config.vendor(vendor_id).sku_map
    if sku_map is None or sku_map.type != "file" or sku_map.path is None:
        return None
    return (GOLDEN / case / sku_map.path).read_bytes()


def _summary(feed: NormalizedFeed) -> tuple[object, ...]:
    return (feed.status, feed.normalized_csv, feed.report())


@pytest.mark.parametrize(("case", "vendor_id", "relative"), GOLDEN_FEEDS)
def test_a_feed_read_from_its_file_equals_the_same_bytes_in_memory(
    case: str, vendor_id: str, relative: str
) -> None:
    config = _golden_config(case)
    path = GOLDEN / case / relative
    sku_map = _sku_map(case, vendor_id, config)
    from_file = normalize_feed(
        path, config=config, vendor_id=vendor_id, as_of=AS_OF, sku_map=sku_map
    )
    from_memory = normalize_feed(
        path.read_bytes(), config=config, vendor_id=vendor_id, as_of=AS_OF, sku_map=sku_map
    )
    assert from_file.status == "ok"
    assert from_file.stats.rows > 0
    assert _summary(from_file) == _summary(from_memory)


def test_the_digest_of_a_file_is_the_digest_of_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(b"x" * 3_000_001)  # more than two 1 MiB chunks
    assert scan_feed(path).sha256 == scan_feed(path.read_bytes()).sha256
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert scan_feed(b"").sha256 == empty


def _large_csv(path: Path, rows: int, encoding: str) -> int:
    lines = ["SKU;QTY;COST;TITLE"]
    lines += [f"A{i};{i % 50};{i % 900}.50;Stück {i} für Modell {i % 7}" for i in range(rows)]
    data = ("\n".join(lines) + "\n").encode(encoding)
    path.write_bytes(data)
    return len(data)


def _csv_config(encoding: str) -> TenantConfig:
    column_map = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST", "title": "TITLE"}
    parser = {"column_map": column_map, "delimiter": ";", "encoding": encoding}
    return make_config([vendor(parser=parser)])


def _python_peak(path: Path, config: TenantConfig) -> tuple[NormalizedFeed, int]:
    tracemalloc.start()
    try:
        feed = normalize_feed(
            path, config=config, vendor_id="v1", as_of=AS_OF, sku_map=None, with_csv=False
        )
        return feed, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_csv_file_is_never_loaded_whole_into_python_memory(
    tmp_path: Path, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python's own allocations while normalizing a 4 MB file stay far below its size:
    polars reads UTF-8 from the file, another encoding is transcoded a chunk at a time
    (64 KiB here, so that the few copies of one chunk are small next to the file)."""
    monkeypatch.setattr(feed_source, "CHUNK_BYTES", 1 << 16)
    path = tmp_path / "feed.csv"
    size = _large_csv(path, 100_000, encoding)
    feed, peak = _python_peak(path, _csv_config(encoding))
    assert feed.stats.accepted == 100_000
    assert size > 4_000_000
    assert peak < size // 2, f"{peak} bytes of Python memory for a {size}-byte file"


def test_a_jsonl_file_is_read_line_by_line_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(raw_table, "ROWS_PER_CHUNK", 1_000)
    path = tmp_path / "feed.jsonl"
    lines = [f'{{"sku": "A{i}", "qty": {i % 9}, "cost": "{i}.25"}}' for i in range(40_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    column_map = {"sku": "sku", "quantity_available": "qty", "cost": "cost"}
    config = make_config([vendor(parser={"format": "jsonl", "column_map": column_map})])
    feed, peak = _python_peak(path, config)
    assert feed.stats.accepted == 40_000
    assert peak < path.stat().st_size // 2


def test_rows_built_in_chunks_equal_rows_built_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys seen late (a JSON key on row 3) reach every chunk as nulls, numbering is kept."""
    feed = (
        b'[{"sku": "A", "qty": 1, "cost": "1.00"}, {"sku": "B", "qty": 2, "cost": "2.00"},'
        b' {"sku": "C", "qty": 3, "cost": "3.00", "lead": 4}, {}, {"sku": "D", "qty": 5,'
        b' "cost": "5.00"}, {"sku": "E", "qty": "x", "cost": "6.00", "lead": 2}]'
    )
    column_map = {
        "sku": "sku",
        "quantity_available": "qty",
        "cost": "cost",
        "lead_time_days": "lead",
    }
    config = make_config(
        [vendor(parser={"format": "json", "column_map": column_map})],
        error_policy={"max_invalid_row_pct": "1"},
    )

    def run() -> NormalizedFeed:
        return normalize_feed(feed, config=config, vendor_id="v1", as_of=AS_OF, sku_map=None)

    whole = run()
    monkeypatch.setattr(raw_table, "ROWS_PER_CHUNK", 2)
    chunked = run()
    assert _summary(chunked) == _summary(whole)
    assert whole.normalized_csv is not None
    lines = whole.normalized_csv.decode().splitlines()
    assert [line.split(",")[0] + "," + line.split(",")[4] for line in lines[1:]] == [
        "A,",
        "B,",
        "C,4",
        "D,",
    ]
    # {} (row 4) is a blank record: dropped, no finding
    assert [(item.row, item.code) for item in whole.errors] == [(6, "invalid_quantity")]


def test_a_workbook_staged_without_an_extension_is_read(tmp_path: Path) -> None:
    """The service stages a feed as ``feed``: openpyxl must get the open file, not the name."""
    config = _golden_config("xlsx_workbook")
    staged = tmp_path / "feed"
    staged.write_bytes((GOLDEN / "xlsx_workbook" / "inputs" / "supplier.xlsx").read_bytes())
    feed = normalize_feed(staged, config=config, vendor_id="supplier", as_of=AS_OF, sku_map=None)
    assert (feed.status, feed.stats.rows) == ("ok", 6)
    assert (
        feed.errors
        == normalize_feed(
            staged.read_bytes(), config=config, vendor_id="supplier", as_of=AS_OF, sku_map=None
        ).errors
    )


def test_a_feed_file_that_is_gone_is_an_os_error_not_an_unreadable_feed(tmp_path: Path) -> None:
    for name, config in (
        ("gone.xlsx", _golden_config("xlsx_workbook")),
        ("gone.csv", _csv_config("utf-8")),
    ):
        vendor_id = config.vendors[0].vendor_id
        with pytest.raises(FileNotFoundError):
            normalize_feed(
                tmp_path / name, config=config, vendor_id=vendor_id, as_of=AS_OF, sku_map=None
            )
