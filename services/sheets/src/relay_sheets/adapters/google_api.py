"""The Drive v3 and Sheets v4 calls Relay makes, through gspread's HTTP client and the
bounded gspread-asyncio manager (``google_client``).

gspread has no folder call, no listing by ``modifiedTime`` and no upload: those go through its
HTTP client (``http_client.request``) with ``supportsAllDrives=true`` (a service account has
no Drive storage of its own: files live in a shared drive). Values are written with
``valueInputOption`` ``RAW`` (``relay_shared.spreadsheet_cells``): text is never parsed as a
formula. A 404 or 403 on a file raises :class:`GoogleFileError` (permanent, recorded with its
reason), any other refusal :class:`GoogleRequestError` (permanent: bad request or config).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import gspread
from gspread.urls import DRIVE_FILES_API_V3_URL, DRIVE_FILES_UPLOAD_API_V2_URL

from relay_shared.errors import PermanentError
from relay_shared.spreadsheet_cells import GOOGLE_VALUE_INPUT_OPTION
from relay_sheets.adapters.google_client import BoundedClientManager, google_reason

FOLDER_MIME = "application/vnd.google-apps.folder"
SHEETS_MIME = "application/vnd.google-apps.spreadsheet"
#: Drive v3's upload endpoint (gspread only knows v2's).
DRIVE_UPLOAD_V3_URL = DRIVE_FILES_UPLOAD_API_V2_URL.replace("/drive/v2/", "/drive/v3/")
_ALL_DRIVES = {"supportsAllDrives": "true"}


class GoogleFileError(PermanentError):
    """A file is gone (404) or no longer shared with Relay (403): ``code`` is
    ``google_file_not_found`` or ``google_permission_denied``."""


class GoogleRequestError(PermanentError):
    code = "google_request_refused"


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class GoogleApi:
    def __init__(self, manager: BoundedClientManager) -> None:
        self._manager = manager

    async def _http(self) -> Any:
        client = await self._manager.authorize()
        return client.gc.http_client

    async def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await self._manager._call(fn, *args, **kwargs)
        except gspread.exceptions.APIError as exc:
            raise _mapped(what, exc) from exc

    async def _request(self, what: str, method: str, url: str, **kwargs: Any) -> Any:
        http = await self._http()
        response = await self._call(what, http.request, method, url, **kwargs)
        return response.json() if response.content else {}

    # -- Drive -----------------------------------------------------------------------------

    async def find_child(self, name: str, parent: str, mime_type: str, drive_id: str) -> str | None:
        q = (
            f"name = {_quoted(name)} and {_quoted(parent)} in parents"
            f" and mimeType = {_quoted(mime_type)} and trashed = false"
        )
        found = await self.list_files(q, drive_id)
        return str(found[0]["id"]) if found else None

    async def list_files(self, q: str, drive_id: str) -> list[dict[str, Any]]:
        params = {
            **_ALL_DRIVES,
            "includeItemsFromAllDrives": "true",
            "corpora": "drive",
            "driveId": drive_id,
            "q": q,
            "orderBy": "modifiedTime",
            "fields": "files(id,name,mimeType,modifiedTime,parents)",
            "pageSize": "1000",
        }
        body = await self._request("list files", "get", DRIVE_FILES_API_V3_URL, params=params)
        return list(body.get("files", []))

    async def create_file(self, name: str, parent: str, mime_type: str) -> str:
        payload = {"name": name, "mimeType": mime_type, "parents": [parent]}
        body = await self._request(
            f"create {name!r}", "post", DRIVE_FILES_API_V3_URL, json=payload, params=_ALL_DRIVES
        )
        return str(body["id"])

    async def share(self, file_id: str, email: str) -> None:
        http = await self._http()
        await self._call(
            f"share {file_id}",
            http.insert_permission,
            file_id,
            email,
            "user",
            "writer",
            notify=False,
        )

    async def permissions(self, file_id: str) -> dict[str, str]:
        """The file's user permissions: lower-cased address → permission id."""
        http = await self._http()
        found = await self._call(f"permissions of {file_id}", http.list_permissions, file_id)
        return {
            str(p["emailAddress"]).lower(): str(p["id"])
            for p in found
            if p.get("emailAddress") and p.get("type", "user") == "user"
        }

    async def revoke(self, file_id: str, permission_id: str) -> None:
        http = await self._http()
        await self._call(f"unshare {file_id}", http.remove_permission, file_id, permission_id)

    async def upload(self, name: str, parent: str, content: bytes, mime_type: str) -> str:
        boundary = uuid.uuid4().hex
        metadata = json.dumps({"name": name, "parents": [parent], "mimeType": mime_type})
        body = (
            (
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
                f"{metadata}\r\n"
                f"--{boundary}\r\nContent-Type: {mime_type}\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/related; boundary={boundary}"}
        params = {**_ALL_DRIVES, "uploadType": "multipart"}
        answer = await self._request(
            f"upload {name!r}",
            "post",
            DRIVE_UPLOAD_V3_URL,
            data=body,
            headers=headers,
            params=params,
        )
        return str(answer["id"])

    # -- Sheets ----------------------------------------------------------------------------

    async def metadata(self, book_id: str) -> dict[str, Any]:
        http = await self._http()
        return dict(await self._call(f"spreadsheet {book_id}", http.fetch_sheet_metadata, book_id))

    async def batch_get(
        self, book_id: str, ranges: list[str], render: str
    ) -> list[list[list[Any]]]:
        http = await self._http()
        body = await self._call(
            f"spreadsheet {book_id}",
            http.values_batch_get,
            book_id,
            ranges,
            params={"valueRenderOption": render, "majorDimension": "ROWS"},
        )
        return [list(r.get("values", [])) for r in body.get("valueRanges", [])]

    async def write_values(self, book_id: str, data: list[dict[str, Any]]) -> None:
        """One ``values:batchUpdate`` (one request however many ranges)."""
        http = await self._http()
        body = {"valueInputOption": GOOGLE_VALUE_INPUT_OPTION, "data": data}
        await self._call(f"spreadsheet {book_id}", http.values_batch_update, book_id, body)

    async def batch_update(self, book_id: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
        http = await self._http()
        body = {"requests": requests}
        return dict(await self._call(f"spreadsheet {book_id}", http.batch_update, book_id, body))


def _mapped(what: str, exc: gspread.exceptions.APIError) -> PermanentError:
    status = exc.response.status_code
    message = str(exc.error.get("message", ""))[:500] if isinstance(exc.error, dict) else ""
    reason = google_reason(exc)
    if status == 404:
        return GoogleFileError(
            f"{what}: not found (deleted, or never shared with Relay's service account): {message}",
            code="google_file_not_found",
            status=status,
            reason=reason,
        )
    if status == 403:
        return GoogleFileError(
            f"{what}: permission denied ({reason or 'forbidden'}): {message}",
            code="google_permission_denied",
            status=status,
            reason=reason,
        )
    return GoogleRequestError(
        f"{what}: refused ({status} {reason}): {message}", status=status, reason=reason
    )
