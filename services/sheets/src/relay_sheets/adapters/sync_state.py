"""Which backend a tenant writes to, and the sync state of every spreadsheet written.

:class:`RecordedBackend` wraps a backend: after each flush that wrote, the spreadsheet's row in
schema ``sheets`` gets its sync time; a flush that failed permanently (the file deleted or
unshared, a write past Google's cell limit) marks it ``failed`` with the code and reason, and
from then on its edits fail permanently at once (no request to Google) while the tenant's
other spreadsheets keep updating. State changes are reported as ``sheet.synced`` (outbox).

:class:`BackendWriters` picks the coalescing writer of a tenant's backend (``sheets.backend``
of its latest config version known here; xlsx when none is), cached for a few seconds.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from relay_shared.errors import PermanentError
from relay_sheets.adapters.backend import EditBatch, SheetBackend, SheetEdit
from relay_sheets.adapters.coalescing_writer import CoalescingWriter
from relay_sheets.adapters.database import SheetsDatabase
from relay_sheets.domain.grid import Cell, WorksheetUpsert
from relay_sheets.domain.layout import SpreadsheetRef, WorksheetLayout

XLSX = "xlsx"
GOOGLE = "google"
_BACKEND_TTL_S = 5.0
#: An xlsx worksheet has 1,048,576 rows; the header takes one.
XLSX_MAX_DATA_ROWS = 1_048_575


class RecordedBackend:
    def __init__(self, inner: SheetBackend, database: SheetsDatabase, name: str) -> None:
        self.inner = inner
        self.database = database
        self.name = name

    def locked(self, ref: SpreadsheetRef) -> AbstractAsyncContextManager[None]:
        return self.inner.locked(ref)

    async def ensure_spreadsheet(
        self, ref: SpreadsheetRef, layouts: Sequence[WorksheetLayout]
    ) -> None:
        await self.inner.ensure_spreadsheet(ref, layouts)

    async def read_rows(self, ref: SpreadsheetRef, layout: WorksheetLayout) -> list[list[Cell]]:
        return await self.inner.read_rows(ref, layout)

    async def upsert_rows(self, ref: SpreadsheetRef, upserts: Sequence[WorksheetUpsert]) -> None:
        outcome = (await self.apply_edits(ref, [lambda _view: upserts])).outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome

    async def apply_edits(self, ref: SpreadsheetRef, edits: Sequence[SheetEdit]) -> EditBatch:
        row = await self.database.spreadsheet(ref, self.name)
        if row is not None and row.state == "failed":
            raise PermanentError(
                f"{ref.title} cannot be written: {row.problem}",
                code=row.problem_code or "spreadsheet_failed",
            )
        try:
            batch = await self.inner.apply_edits(ref, edits)
        except PermanentError as exc:
            await self.database.record(
                ref, self.name, file_id=None, problem=(exc.code, exc.message)
            )
            raise
        if batch.saved:
            await self.database.record(ref, self.name, file_id=None)
        return batch


@dataclass
class _Known:
    backend: str
    until: float


class BackendWriters:
    def __init__(
        self,
        database: SheetsDatabase,
        xlsx: CoalescingWriter,
        google: CoalescingWriter | None,
        *,
        max_feed_rows: dict[str, int] | None = None,
    ) -> None:
        self.database = database
        self.xlsx = xlsx
        self.google = google
        self._max_feed_rows = max_feed_rows or {}
        self._known: dict[str, _Known] = {}

    def writer(self, backend: str) -> CoalescingWriter:
        if backend == XLSX:
            return self.xlsx
        if self.google is None:
            raise PermanentError(
                "the tenant's sheets.backend is google but this service has no Google service"
                " account (APP_SERVICE_ACCOUNT_FILE)",
                code="google_not_configured",
            )
        return self.google

    def max_feed_rows(self, backend: str) -> int:
        """The longest merged feed a spreadsheet of ``backend`` is given row by row."""
        return self._max_feed_rows.get(backend, XLSX_MAX_DATA_ROWS)

    async def backend_of(self, tenant_id: str) -> str:
        known = self._known.get(tenant_id)
        now = time.monotonic()
        if known is None or known.until < now:
            tenant = await self.database.tenant(tenant_id)
            backend = XLSX if tenant is None else tenant.backend
            known = self._known[tenant_id] = _Known(backend, now + _BACKEND_TTL_S)
        return known.backend

    def forget(self, tenant_id: str) -> None:
        self._known.pop(tenant_id, None)

    async def for_tenant(self, tenant_id: str) -> CoalescingWriter:
        return self.writer(await self.backend_of(tenant_id))

    @asynccontextmanager
    async def closing(self) -> AsyncIterator[BackendWriters]:
        try:
            yield self
        finally:
            await self.xlsx.aclose()
            if self.google is not None:
                await self.google.aclose()
