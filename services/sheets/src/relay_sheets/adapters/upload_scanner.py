"""Spreadsheets the merchant uploads into a channel folder become that channel's listings.

Every ``interval_s`` each Google channel folder is listed through Drive for spreadsheets
modified since its last scan (``modifiedTime > last``, the newest time seen is kept per
folder; Relay's own "Inventory – <channel>" is skipped, and so is a file whose
``modifiedTime`` is the one last read: unchanged). Each one is read in one
``values:batchGet`` of its first worksheet (formulas shown) plus its metadata (merges), checked
(``domain.uploads``: formulas or merged cells in the sku column, its length) and parsed with
``relay_shared.listings``. A sheet that reads cleanly is stored as canonical CSV at
``listings_key`` (named by its sha256) and announced as ``listings.imported`` (source
``sheet``) through the outbox, in the transaction that records the upload; one that does not
is recorded with every problem, and reported (``sheet.synced`` failed, code
``listing_sheet_rejected``, the problems as the reason) so ``GET /v1/tenants/{id}/sheets``
shows it. A file Google cannot serve for now (a ``TransientError``: unavailable after the
client's bounded retries, its worksheets changed while read) is neither rejected nor passed:
the folder's scan cursor stays before it, so the next scan reads it again. A file that fails
never stops the others, nor the folder's other tenants.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from relay_shared.bus.failures import DEPENDENCY_ERRORS
from relay_shared.errors import PermanentError, RelayError, TransientError
from relay_shared.events import ListingsImported
from relay_shared.listings import (
    ListingProblem,
    ListingsError,
    ListingsLimits,
    canonical_csv,
    listings_key,
    parse_listing_rows,
)
from relay_shared.outbox import Outbox
from relay_shared.storage import ObjectStore
from relay_sheets.adapters.database import SheetsDatabase, UploadedSheet
from relay_sheets.adapters.google_api import SHEETS_MIME, GoogleApi
from relay_sheets.domain.google_ranges import sheet_range
from relay_sheets.domain.layout import CHANNEL_TITLE_PREFIX
from relay_sheets.domain.uploads import next_scan_cursor, records, sheet_problems, summary

log = structlog.get_logger(__name__)
GOOGLE = "google"
EPOCH = "1970-01-01T00:00:00.000Z"
REJECTED = "listing_sheet_rejected"
_SCAN_ERRORS: tuple[type[BaseException], ...] = (RelayError, *DEPENDENCY_ERRORS)


@dataclass(frozen=True)
class FoundSpreadsheet:
    """A spreadsheet the merchant put in a channel folder, as the Drive listing found it."""

    tenant_id: str
    channel: str
    file_id: str
    name: str
    modified_at: str


class UploadScanner:
    def __init__(
        self, api: GoogleApi, database: SheetsDatabase, store: ObjectStore, *, max_rows: int
    ) -> None:
        self.api = api
        self.database = database
        self.store = store
        self.limits = ListingsLimits(max_rows=max_rows)
        self.outbox = Outbox(database.pool)

    async def scan_forever(self, interval_s: float) -> None:
        """Scan, then wait ``interval_s``, until cancelled; a scan that fails in a way no one
        foresaw is logged and the next one runs (the loop must outlive a bug in one file)."""
        while True:
            try:
                await self.scan_once()
            except Exception:
                log.exception("sheets.scan_crashed")
            await asyncio.sleep(interval_s)

    async def scan_once(self) -> int:
        """Scan every Google channel folder once; how many files were read."""
        read = 0
        for tenant_id, channel, folder in await self.database.folders(GOOGLE):
            try:
                read += await self._scan_folder(tenant_id, channel, folder)
            except _SCAN_ERRORS as exc:  # Google, S3 or Postgres failing: the next scan retries
                log.warning(
                    "sheets.scan_failed", tenant_id=tenant_id, channel=channel, error=str(exc)
                )
        return read

    async def _scan_folder(self, tenant_id: str, channel: str, folder: str) -> int:
        tenant = await self.database.tenant(tenant_id)
        if tenant is None or tenant.backend != GOOGLE or not tenant.shared_drive_id:
            return 0
        since = await self.database.last_scan(tenant_id, channel, GOOGLE) or EPOCH
        q = (
            f"'{folder}' in parents and mimeType = '{SHEETS_MIME}' and trashed = false"
            f" and modifiedTime > '{since}'"
        )
        files = await self.api.list_files(q, tenant.shared_drive_id)
        known = await self.database.upload_versions(tenant_id, channel)
        read: list[str] = []
        retry: list[str] = []
        for found in files:
            upload = FoundSpreadsheet(
                tenant_id, channel, found["id"], found["name"], found["modifiedTime"]
            )
            own = upload.name == f"{CHANNEL_TITLE_PREFIX}{channel}"
            if not own and known.get(upload.file_id) != upload.modified_at:
                try:
                    await self._import(upload)
                except TransientError as exc:  # read again at the next scan, not rejected
                    retry.append(upload.modified_at)
                    log.warning(
                        "sheets.upload_unreadable_for_now",
                        channel=channel,
                        file=upload.name,
                        error=str(exc),
                    )
                    continue
            read.append(upload.modified_at)
        cursor = next_scan_cursor(since, read, retry)
        if cursor != since:
            await self.database.save_scan(tenant_id, channel, GOOGLE, cursor)
        return len(files)

    async def _import(self, upload: FoundSpreadsheet) -> None:
        try:
            rows, merges = await self._read(upload.file_id)
        except PermanentError as exc:  # deleted, unshared: a TransientError propagates
            await self._reject(
                upload, [ListingProblem(None, None, f"cannot be read: {exc.message}")]
            )
            return
        problems = sheet_problems(rows, merges, self.limits.max_rows)
        if problems:
            await self._reject(upload, problems)
            return
        try:
            listings = parse_listing_rows(records(rows), self.limits)
        except ListingsError as exc:
            await self._reject(upload, list(exc.problems), exc.more)
            return
        data = canonical_csv(listings)
        sha = hashlib.sha256(data).hexdigest()
        key = listings_key(upload.tenant_id, upload.channel, sha)
        await self.store.put_bytes(key, data, content_type="text/csv")
        event = ListingsImported(
            event_id=f"listings.imported:{upload.tenant_id}:{upload.channel}:{sha}",
            occurred_at=datetime.now(UTC),
            tenant_id=upload.tenant_id,
            correlation_id=f"sheet-{upload.file_id}",
            channel=upload.channel,
            listings_key=key,
            sha256=sha,
            rows=len(listings),
            source="sheet",
        )
        async with self.database.pool.acquire() as conn, conn.transaction():
            await self.database.save_upload(
                conn,
                upload.tenant_id,
                upload.channel,
                {**_row(upload, "imported"), "listings_key": key, "rows": len(listings)},
            )
            await Outbox.add(conn, event)
        await self.database.record(_name(upload), GOOGLE, file_id=upload.file_id)
        log.info(
            "sheets.listing_imported", channel=upload.channel, file=upload.name, rows=len(listings)
        )

    async def _read(self, file_id: str) -> tuple[list[list[Any]], list[dict[str, int]]]:
        metadata = await self.api.metadata(file_id)
        first = metadata["sheets"][0]
        title = first["properties"]["title"]
        values = await self.api.batch_get(file_id, [sheet_range(title)], "FORMULA")
        return values[0], list(first.get("merges", []))

    async def _reject(
        self, upload: FoundSpreadsheet, problems: list[ListingProblem], more: int = 0
    ) -> None:
        text = summary(problems, more)
        async with self.database.pool.acquire() as conn:
            row = _row(upload, "rejected")
            row["problems"] = [
                {"row": p.row, "column": p.column, "message": p.message} for p in problems
            ]
            await self.database.save_upload(conn, upload.tenant_id, upload.channel, row)
        await self.database.record(
            _name(upload), GOOGLE, file_id=upload.file_id, problem=(REJECTED, text)
        )
        log.warning(
            "sheets.listing_rejected", channel=upload.channel, file=upload.name, problems=text
        )


def _row(upload: FoundSpreadsheet, status: str) -> dict[str, Any]:
    return {
        "file_id": upload.file_id,
        "name": upload.name,
        "modified_at": upload.modified_at,
        "status": status,
    }


def _name(upload: FoundSpreadsheet) -> UploadedSheet:
    return UploadedSheet(upload.tenant_id, upload.channel, upload.name)
