"""The coalescing writer on real workbooks: one load and one save serve a batch, edits see
each other in arrival order, a failing edit fails alone, a failed save fails the batch."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from openpyxl import load_workbook

from relay_shared.errors import PermanentError
from relay_sheets.adapters.backend import SheetEdit, WorkbookView
from relay_sheets.adapters.coalescing_writer import CoalescingWriter
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.domain.grid import RowChange, WorksheetUpsert
from relay_sheets.domain.layout import WorksheetLayout, channel_spreadsheet

REF = channel_spreadsheet("t1", "amazon")
COUNTS = WorksheetLayout("Counts", ("name", "count", "note"), ("name",))
DEADLINE_S = 20.0


def counted(name: str) -> WorksheetUpsert:
    return WorksheetUpsert(COUNTS, [RowChange((name,), {"count": 0})])


def increment(name: str, by: int = 1) -> SheetEdit:
    """An edit that depends on the cells: read the row's count, write count + ``by``."""

    def edit(view: WorkbookView) -> list[WorksheetUpsert]:
        row: Mapping[str, object] | None = view.find(COUNTS, (name,))
        current = row["count"] if row is not None else 0
        assert isinstance(current, int)
        return [WorksheetUpsert(COUNTS, [RowChange((name,), {"count": current + by})])]

    return edit


def failing(view: WorkbookView) -> Sequence[WorksheetUpsert]:
    raise ValueError("bad data in this one message")


def cells(path: Path) -> list[list[object]]:
    return [list(r) for r in load_workbook(path)["Counts"].iter_rows(values_only=True)]


async def test_one_save_serves_a_batch_whose_edits_apply_in_arrival_order(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)
    writer = CoalescingWriter(backend, linger_s=0.2, max_batch=1000)

    async with asyncio.timeout(DEADLINE_S):
        results = await asyncio.gather(*(writer.submit(REF, increment("a")) for _ in range(50)))

    assert cells(backend.path_for(REF)) == [["name", "count", "note"], ["a", 50, None]]
    assert results[-1] == [WorksheetUpsert(COUNTS, [RowChange(("a",), {"count": 50})])]
    assert (writer.stats.flushes, writer.stats.saves, writer.stats.edits_applied) == (1, 1, 50)


async def test_a_full_batch_is_written_at_once_without_lingering(tmp_path: Path) -> None:
    writer = CoalescingWriter(XlsxBackend(tmp_path), linger_s=60.0, max_batch=5)

    async with asyncio.timeout(DEADLINE_S):
        await asyncio.gather(*(writer.submit(REF, increment("a")) for _ in range(10)))

    assert (writer.stats.flushes, writer.stats.saves) == (2, 2)
    assert cells(XlsxBackend(tmp_path).path_for(REF))[1] == ["a", 10, None]


async def test_an_edit_that_fails_fails_alone_and_leaves_no_cell_behind(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)
    writer = CoalescingWriter(backend, linger_s=0.2)
    # Writes "count" first, then a control character openpyxl refuses: the count is undone.
    half_done = WorksheetUpsert(COUNTS, [RowChange(("a",), {"count": 99, "note": "bad\x01"})])

    async with asyncio.timeout(DEADLINE_S):
        outcomes = await asyncio.gather(
            writer.submit(REF, increment("a")),
            writer.submit(REF, failing),
            writer.submit(REF, lambda _view: [half_done]),
            writer.submit(REF, increment("a")),
            return_exceptions=True,
        )

    assert isinstance(outcomes[1], ValueError)
    assert isinstance(outcomes[2], PermanentError)
    assert outcomes[2].code == "unwritable_cell"
    assert cells(backend.path_for(REF)) == [["name", "count", "note"], ["a", 2, None]]
    assert (writer.stats.saves, writer.stats.edits_applied, writer.stats.edits_failed) == (1, 2, 2)


async def test_a_failed_save_fails_every_waiter_and_their_retry_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = XlsxBackend(tmp_path)
    writer = CoalescingWriter(backend, linger_s=0.2)
    path = backend.path_for(REF)
    await writer.submit(REF, lambda _view: [counted("a")])
    before = path.read_bytes()
    real_replace = os.replace
    failures = 0

    def replace_failing_once(src: str, dst: str) -> None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_failing_once)
    async with asyncio.timeout(DEADLINE_S):
        first = await asyncio.gather(
            *(writer.submit(REF, increment("a")) for _ in range(10)), return_exceptions=True
        )
        assert all(isinstance(o, OSError) for o in first)
        assert path.read_bytes() == before
        await asyncio.gather(*(writer.submit(REF, increment("a")) for _ in range(10)))

    assert cells(path)[1] == ["a", 10, None]
    assert writer.stats.failed_flushes == 1
    assert (writer.stats.saves, writer.stats.edits_failed) == (2, 10)


async def test_an_edit_that_changes_nothing_does_not_rewrite_the_workbook(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)
    writer = CoalescingWriter(backend, linger_s=0.0)
    await writer.submit(REF, lambda _view: [counted("a")])
    inode = backend.path_for(REF).stat().st_ino

    assert await writer.submit(REF, lambda _view: [counted("a")])

    assert backend.path_for(REF).stat().st_ino == inode
    assert (writer.stats.flushes, writer.stats.saves) == (2, 1)


async def test_closing_cancels_waiting_edits_without_applying_them(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path)
    writer = CoalescingWriter(backend, linger_s=60.0)
    waiting = asyncio.create_task(writer.submit(REF, increment("a")))
    await asyncio.sleep(0)  # let it enqueue

    await writer.aclose()

    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not backend.path_for(REF).exists()
    assert writer.stats.flushes == 0
