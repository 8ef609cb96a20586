"""A tenant's Drive layout: the root folder "Relay – <tenant name>", one folder per channel,
and the spreadsheets in them, each made once.

Making a folder or a spreadsheet is not idempotent at Google, so each one is made under a
Postgres advisory lock on its name (across replicas), after looking for it in schema
``sheets`` and then in Drive (a crash between Drive's answer and the row being written left
one there: it is adopted, not made twice). A new folder is shared (writer) with every address
of ``sheets.google.share_with``.

When ``share_with`` changes (a later config version), every existing folder of the tenant is
brought to the new list (:meth:`GoogleDrive.share_folders`): a new address is granted writer,
and an address Relay granted that left the list is revoked, since a merchant removing someone
expects them to lose the access Relay gave. Only addresses Relay granted (recorded per folder
in ``folders.shared_with``) are ever revoked: someone the merchant shared a folder with by hand
keeps their access (unless that is also an address Relay granted: Drive keeps one permission
per address). The folder's current permissions are listed first, so a replay grants or
revokes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from relay_shared.errors import PermanentError
from relay_sheets.adapters.database import ROOT, SheetsDatabase, TenantRow, channel_key
from relay_sheets.adapters.google_api import FOLDER_MIME, SHEETS_MIME, GoogleApi
from relay_sheets.domain.folders import channel_folder_name, root_folder_name, sharing_change
from relay_sheets.domain.layout import SpreadsheetRef

GOOGLE = "google"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class MadeFile:
    file_id: str
    created: bool


class GoogleDrive:
    def __init__(self, api: GoogleApi, database: SheetsDatabase) -> None:
        self.api = api
        self.database = database

    async def tenant(self, tenant_id: str) -> TenantRow:
        tenant = await self.database.tenant(tenant_id)
        if tenant is None or tenant.backend != GOOGLE or not tenant.shared_drive_id:
            raise PermanentError(
                f"tenant {tenant_id} has no sheets.google.shared_drive_id in its config",
                code="google_not_configured",
            )
        return tenant

    async def ensure_folders(self, tenant: TenantRow, channels: list[str]) -> dict[str, str]:
        """The root folder and each channel's folder (made when missing): channel → id."""
        made = {ROOT: await self.folder(tenant, ROOT)}
        for channel in channels:
            made[channel] = await self.folder(tenant, channel)
        await self.share_folders(tenant)
        return made

    async def share_folders(self, tenant: TenantRow) -> None:
        """Bring the sharing of every folder of the tenant to its ``share_with``."""
        folders = await self.database.folder_sharing(tenant.tenant_id, GOOGLE)
        for channel, (folder_id, granted) in folders.items():  # channels, then the root
            if not sharing_change(granted, tenant.share_with):
                continue
            async with self.database.locked(_folder_lock(tenant, channel)):
                await self._reshare(tenant, channel, folder_id)

    async def _reshare(self, tenant: TenantRow, channel: str, folder_id: str) -> None:
        found = await self.database.folder_sharing(tenant.tenant_id, GOOGLE)
        change = sharing_change(found.get(channel, (folder_id, []))[1], tenant.share_with)
        if not change:  # another replica did it meanwhile
            return
        current = await self.api.permissions(folder_id)
        for email in change.add:
            if email.lower() not in current:
                await self.api.share(folder_id, email)
        for email in change.revoke:
            permission = current.get(email.lower())
            if permission is not None:
                await self.api.revoke(folder_id, permission)
        await self.database.save_sharing(tenant.tenant_id, channel, GOOGLE, tenant.share_with)
        log.info(
            "sheets.folder_sharing_changed",
            tenant_id=tenant.tenant_id,
            channel=channel or "root",
            added=list(change.add),
            revoked=list(change.revoke),
        )

    async def folder(self, tenant: TenantRow, channel: str) -> str:
        known = await self.database.folder(tenant.tenant_id, channel, GOOGLE)
        if known is not None:
            return known
        drive_id = tenant.shared_drive_id or ""
        parent = drive_id if channel == ROOT else await self.folder(tenant, ROOT)
        name = (
            root_folder_name(tenant.name or tenant.tenant_id)
            if channel == ROOT
            else channel_folder_name(channel)
        )
        async with self.database.locked(_folder_lock(tenant, channel)):
            known = await self.database.folder(tenant.tenant_id, channel, GOOGLE)
            if known is not None:
                return known
            made = await self._find_or_make(name, parent, FOLDER_MIME, drive_id)
            if made.created:
                for email in tenant.share_with:
                    await self.api.share(made.file_id, email)
            # An adopted folder's sharing is unknown: ``share_folders`` checks it in Drive.
            granted = tenant.share_with if made.created else []
            await self.database.save_folder(
                tenant.tenant_id, channel, GOOGLE, made.file_id, name, granted
            )
            return made.file_id

    async def spreadsheet(self, ref: SpreadsheetRef) -> MadeFile:
        row = await self.database.spreadsheet(ref, GOOGLE)
        if row is not None and row.file_id:
            return MadeFile(row.file_id, created=False)
        tenant = await self.tenant(ref.tenant_id)
        folder = await self.folder(tenant, channel_key(ref))
        lock = f"relay.sheets.google.book:{ref.tenant_id}:{channel_key(ref)}:{ref.title}"
        async with self.database.locked(lock):
            row = await self.database.spreadsheet(ref, GOOGLE)
            if row is not None and row.file_id:
                return MadeFile(row.file_id, created=False)
            made = await self._find_or_make(
                ref.title, folder, SHEETS_MIME, tenant.shared_drive_id or ""
            )
            await self.database.save_file_id(ref, GOOGLE, made.file_id)
            return made

    async def place_file(
        self, name: str, folder: str, data: bytes, mime_type: str, drive_id: str
    ) -> str:
        """Upload ``data`` as ``name`` into ``folder`` unless a file of that name is there."""
        found = await self.api.find_child(name, folder, mime_type, drive_id)
        if found is not None:
            return found
        return await self.api.upload(name, folder, data, mime_type)

    async def _find_or_make(
        self, name: str, parent: str, mime_type: str, drive_id: str
    ) -> MadeFile:
        found = await self.api.find_child(name, parent, mime_type, drive_id)
        if found is not None:
            return MadeFile(found, created=False)
        return MadeFile(await self.api.create_file(name, parent, mime_type), created=True)


def _folder_lock(tenant: TenantRow, channel: str) -> str:
    return f"relay.sheets.google.folder:{tenant.tenant_id}:{channel}"
