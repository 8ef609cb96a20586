"""Sheets' folder handlers: a tenant's folders when it is configured, and a channel's files.

- ``tenant.configured``: remember the tenant (name, channels, and the sheets section of the
  config version, if any), then make its folders on its backend: Google (root "Relay – <tenant
  name>" and one folder per channel in the shared drive, shared with ``share_with``; see
  ``google_drive``) or xlsx (``<sheets dir>/<tenant>/<channel>/`` on disk). Both are
  idempotent: a replayed event or a restart makes nothing twice. A later config version also
  clears a spreadsheet's recorded failure (the merchant fixed the sharing): it is tried again.
- ``channel.acted`` with an ``artifact_key`` (e.g. Woot's listing update CSV, written by the
  channels service): the file is placed into the channel's folder (xlsx: written beside the
  workbook; Google: uploaded once, by name).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import structlog

from relay_shared import keys
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError
from relay_shared.events import ChannelActed, TenantConfigured
from relay_shared.storage import ObjectStore
from relay_sheets.adapters.database import SheetsDatabase, TenantRow
from relay_sheets.adapters.google_drive import GoogleDrive
from relay_sheets.adapters.sync_state import GOOGLE, BackendWriters
from relay_sheets.domain.layout import (
    SpreadsheetRef,
    UnsafeNameError,
    channel_spreadsheet,
    merged_feed_spreadsheet,
)

log = structlog.get_logger(__name__)


@dataclass
class FolderHandlers:
    database: SheetsDatabase
    configs: TenantConfigStore
    store: ObjectStore
    writers: BackendWriters
    drive: GoogleDrive | None
    xlsx_root: Path

    async def on_tenant_configured(self, event: TenantConfigured) -> None:
        tenant_id = event.tenant_id
        await self.database.save_tenant(tenant_id, event.name, event.channels)
        if event.config_version is not None:
            sections = await self.configs.load_channel_sections(tenant_id, event.config_version)
            google = sections.sheets.google
            await self.database.save_backend(
                tenant_id,
                event.config_version,
                sections.sheets.backend,
                google.shared_drive_id if google else None,
                google.share_with if google else [],
            )
            await self.database.clear_failures(tenant_id)
        self.writers.forget(tenant_id)
        tenant = await self.database.tenant(tenant_id)
        if tenant is None:  # written just above: only a concurrent purge gets here
            return
        channels = sorted(set(tenant.channels) | set(event.channels))
        if tenant.backend == GOOGLE:
            await self._google(tenant).ensure_folders(tenant, channels)
        else:
            self._xlsx_folders(tenant, channels)
        log.info(
            "sheets.folders_ready", tenant_id=tenant_id, backend=tenant.backend, channels=channels
        )

    async def on_channel_acted(self, event: ChannelActed) -> None:
        if event.artifact_key is None:
            return
        key = keys.tenant_key(event.tenant_id, event.artifact_key)
        name = PurePosixPath(key).name
        ref = _channel(event.tenant_id, event.channel)
        backend = await self.writers.backend_of(event.tenant_id)
        data = await self.store.get_bytes(key)
        if backend == GOOGLE:
            tenant = await self.database.tenant(event.tenant_id)
            if tenant is None:
                raise PermanentError(
                    f"tenant {event.tenant_id} unknown", code="google_not_configured"
                )
            drive = self._google(tenant)
            folder = await drive.folder(tenant, event.channel)
            await drive.place_file(name, folder, data, "text/csv", tenant.shared_drive_id or "")
        else:
            folder_path = self.xlsx_root.joinpath(*ref.folder)
            _write_atomically(folder_path, name, data)
        log.info("sheets.artifact_placed", channel=event.channel, name=name, backend=backend)

    def _google(self, tenant: TenantRow) -> GoogleDrive:
        if self.drive is None:
            raise PermanentError(
                f"tenant {tenant.tenant_id} uses the google backend but this service has no"
                " service account (APP_SERVICE_ACCOUNT_FILE)",
                code="google_not_configured",
            )
        return self.drive

    def _xlsx_folders(self, tenant: TenantRow, channels: list[str]) -> None:
        try:
            root = merged_feed_spreadsheet(tenant.tenant_id)
        except UnsafeNameError as exc:
            raise _unsafe(exc) from exc
        self.xlsx_root.joinpath(*root.folder).mkdir(parents=True, exist_ok=True)
        for channel in channels:
            ref = _channel(tenant.tenant_id, channel)
            self.xlsx_root.joinpath(*ref.folder).mkdir(parents=True, exist_ok=True)


def _channel(tenant_id: str, channel: str) -> SpreadsheetRef:
    try:
        return channel_spreadsheet(tenant_id, channel)
    except UnsafeNameError as exc:
        raise _unsafe(exc) from exc


def _unsafe(exc: UnsafeNameError) -> PermanentError:
    return PermanentError(str(exc), code=f"invalid_{exc.kind}", **{exc.kind: exc.name})


def _write_atomically(folder: Path, name: str, data: bytes) -> None:
    if name in ("", ".", "..") or "/" in name:
        raise PermanentError(
            f"artifact name {name!r} cannot be a file name", code="invalid_artifact"
        )
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, folder / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
