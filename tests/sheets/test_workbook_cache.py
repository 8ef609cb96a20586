"""Workbooks kept loaded between flushes (``workbook_cache``): reused only while the file on
disk is the one last saved; a merchant's edit, a deleted file or a failed save is never
overwritten from a stale copy; the cache stays within its cells."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.domain.grid import RowChange, WorksheetUpsert
from relay_sheets.domain.layout import ORDERS, channel_spreadsheet

REF = channel_spreadsheet("t1", "amazon")
OTHER = channel_spreadsheet("t1", "ebay")


def order(order_id: str, sku: str, quantity: int) -> list[WorksheetUpsert]:
    return [WorksheetUpsert(ORDERS, [RowChange((order_id, sku), {"quantity": quantity})])]


def values(path: Path) -> list[list[object]]:
    return [list(r) for r in load_workbook(path)["Orders"].iter_rows(values_only=True)]


async def test_a_second_flush_reuses_the_saved_workbook(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)

    await backend.upsert_rows(REF, order("O-1", "A", 1))
    await backend.upsert_rows(REF, order("O-2", "B", 2))
    await backend.upsert_rows(REF, order("O-2", "B", 2))  # no change: nothing saved

    assert (backend.cache.misses, backend.cache.hits) == (1, 2)
    assert values(backend.path_for(REF)) == [
        ["order_id", "sku", "quantity", "shipped_at"],
        ["O-1", "A", 1, None],
        ["O-2", "B", 2, None],
    ]


async def test_a_file_edited_since_the_save_is_read_again(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)
    path = backend.path_for(REF)
    await backend.upsert_rows(REF, order("O-1", "A", 1))
    workbook = load_workbook(path)
    workbook["Orders"]["E1"] = "carrier"
    workbook["Orders"]["E2"] = "UPS"
    workbook["Orders"].append(["mine", None, None, None, "note"])
    workbook.save(path)

    await backend.upsert_rows(REF, order("O-2", "B", 2))

    assert (backend.cache.misses, backend.cache.hits) == (2, 0)
    assert values(path) == [
        ["order_id", "sku", "quantity", "shipped_at", "carrier"],
        ["O-1", "A", 1, None, "UPS"],
        ["mine", None, None, None, "note"],
        ["O-2", "B", 2, None, None],
    ]


async def test_a_deleted_file_is_made_again_without_the_cached_rows(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)
    path = backend.path_for(REF)
    await backend.upsert_rows(REF, order("O-1", "A", 1))
    path.unlink()

    await backend.upsert_rows(REF, order("O-2", "B", 2))

    assert (backend.cache.misses, backend.cache.hits) == (2, 0)
    assert values(path) == [["order_id", "sku", "quantity", "shipped_at"], ["O-2", "B", 2, None]]


async def test_a_failed_save_is_not_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = XlsxBackend(tmp_path)
    path = backend.path_for(REF)
    await backend.upsert_rows(REF, order("O-1", "A", 1))

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr("relay_sheets.adapters.xlsx_backend.os.replace", broken_replace)
        with pytest.raises(OSError, match="disk full"):
            await backend.upsert_rows(REF, order("O-9", "Z", 9))
    await backend.upsert_rows(REF, order("O-2", "B", 2))

    assert (backend.cache.misses, backend.cache.hits) == (2, 1)
    assert values(path) == [
        ["order_id", "sku", "quantity", "shipped_at"],
        ["O-1", "A", 1, None],
        ["O-2", "B", 2, None],
    ]


async def test_the_least_recently_used_workbook_leaves_a_full_cache(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path, cache_cells=12)  # one Orders tab of 2 rows × 4 columns

    await backend.upsert_rows(REF, order("O-1", "A", 1))
    await backend.upsert_rows(OTHER, order("O-1", "A", 1))
    assert backend.cache.cells == 8
    await backend.upsert_rows(OTHER, order("O-2", "B", 2))  # hit; REF was evicted
    await backend.upsert_rows(REF, order("O-2", "B", 2))  # miss

    assert (backend.cache.misses, backend.cache.hits) == (3, 1)
    assert backend.cache.cells == 12
    assert values(backend.path_for(REF)) == values(backend.path_for(OTHER))


async def test_an_empty_cache_keeps_nothing(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path, cache_cells=0)

    await backend.upsert_rows(REF, order("O-1", "A", 1))
    await backend.upsert_rows(REF, order("O-2", "B", 2))

    assert (backend.cache.misses, backend.cache.hits, backend.cache.cells) == (2, 0, 0)
