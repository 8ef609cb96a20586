"""The fake's Drive v3 routes: files (create, list with ``q``, get, media, delete, multipart
upload) and permissions (create, list, delete), in shared drives."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from relay_sheets.devfake.model import (
    FOLDER,
    SHEETS,
    DriveFile,
    GoogleError,
    Spreadsheet,
    now_text,
)

if TYPE_CHECKING:
    from relay_sheets.devfake.google import FakeGoogle

_VALUE = r"""(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")"""
_CLAUSES = [
    ("in_parents", re.compile(rf"{_VALUE}\s+in\s+parents", re.I)),
    ("parents_in", re.compile(rf"parents\s+in\s+{_VALUE}", re.I)),
    ("field", re.compile(rf"(mimeType|name|modifiedTime)\s*(=|!=|>|>=|<)\s*{_VALUE}", re.I)),
    ("trashed", re.compile(r"trashed\s*=\s*(true|false)", re.I)),
]
_AND = re.compile(r"\s+and\s+", re.I)


def _unquote(match: re.Match[str], first: int) -> str:
    raw = match.group(first) if match.group(first) is not None else match.group(first + 1)
    return re.sub(r"\\(.)", r"\1", raw)


def parse_query(q: str) -> list[tuple[str, str, str]]:
    """``q`` as (field, operator, value) clauses joined by ``and``."""
    clauses, at = [], 0
    while at < len(q):
        for name, pattern in _CLAUSES:
            match = pattern.match(q, at)
            if match is None:
                continue
            if name == "in_parents" or name == "parents_in":
                clauses.append(("parents", "in", _unquote(match, 1)))
            elif name == "field":
                clauses.append((match.group(1), match.group(2), _unquote(match, 3)))
            else:
                clauses.append(("trashed", "=", match.group(1).lower()))
            at = match.end()
            break
        else:
            raise GoogleError(400, "INVALID_ARGUMENT", f"Invalid Value: {q}", "invalid")
        separator = _AND.match(q, at)
        if separator is None and at < len(q):
            raise GoogleError(400, "INVALID_ARGUMENT", f"Invalid Value: {q}", "invalid")
        at = separator.end() if separator else at
    return clauses


def _matches(file: DriveFile, clauses: list[tuple[str, str, str]]) -> bool:
    for name, op, value in clauses:
        if name == "parents" and value not in file.parents:
            return False
        if name == "trashed" and file.trashed != (value == "true"):
            return False
        if name in ("mimeType", "name", "modifiedTime"):
            actual = {"mimeType": file.mime_type, "name": file.name, "modifiedTime": file.modified}[
                name
            ]
            if not _compare(actual, op, value):
                return False
    return True


def _compare(actual: str, op: str, value: str) -> bool:
    return {
        "=": actual == value,
        "!=": actual != value,
        ">": actual > value,
        ">=": actual >= value,
        "<": actual < value,
    }[op]


class DriveApi:
    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/drive/v3/files", self.list_files)
        router.add_post("/drive/v3/files", self.create)
        router.add_get("/drive/v3/files/{id}", self.get)
        router.add_delete("/drive/v3/files/{id}", self.delete)
        router.add_post("/drive/v3/files/{id}/permissions", self.share)
        router.add_get("/drive/v3/files/{id}/permissions", self.permissions)
        router.add_delete("/drive/v3/files/{id}/permissions/{permission}", self.unshare)
        router.add_post("/upload/drive/v3/files", self.upload)

    def file(self, file_id: str) -> DriveFile:
        found = self.fake.files.get(file_id)
        if found is None or found.trashed:
            raise GoogleError(404, "NOT_FOUND", f"File not found: {file_id}.", "notFound")
        if found.unshared:
            raise GoogleError(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                "insufficientFilePermissions",
            )
        return found

    def _parent_drive(self, parents: list[str], all_drives: bool) -> str:
        if not parents:
            raise _no_storage()
        parent = self.fake.files.get(parents[0])
        if parent is None or parent.drive_id is None:
            raise (
                _no_storage()
                if parent is not None
                else GoogleError(404, "NOT_FOUND", f"File not found: {parents[0]}.", "notFound")
            )
        if not all_drives:
            raise GoogleError(404, "NOT_FOUND", f"File not found: {parents[0]}.", "notFound")
        return parent.drive_id

    def new_file(
        self, metadata: dict[str, Any], all_drives: bool, content: bytes = b""
    ) -> DriveFile:
        parents = list(metadata.get("parents") or [])
        drive_id = self._parent_drive(parents, all_drives)
        self.file(parents[0])
        mime = str(metadata.get("mimeType") or "application/octet-stream")
        file_id = self.fake.new_id("1sh" if mime == SHEETS else "1fo" if mime == FOLDER else "1fi")
        created = DriveFile(file_id, str(metadata.get("name", "Untitled")), mime, parents, drive_id)
        created.content = content
        self.fake.files[file_id] = created
        if mime == SHEETS:
            book = Spreadsheet(file_id, created.name)
            book.add_sheet("Sheet1")
            self.fake.books[file_id] = book
        return created

    async def create(self, request: web.Request) -> web.Response:
        metadata = await request.json()
        created = self.new_file(metadata, _flag(request, "supportsAllDrives"))
        return web.json_response(created.resource())

    async def upload(self, request: web.Request) -> web.Response:
        if request.query.get("uploadType") != "multipart":
            raise GoogleError(400, "INVALID_ARGUMENT", "uploadType must be multipart", "badRequest")
        reader = await request.multipart()
        parts: list[bytes] = []
        while (part := await reader.next()) is not None:
            parts.append(bytes(await part.read()))  # type: ignore[union-attr]
        metadata = json.loads(parts[0])
        created = self.new_file(
            metadata, _flag(request, "supportsAllDrives"), parts[1] if len(parts) > 1 else b""
        )
        return web.json_response(created.resource())

    async def list_files(self, request: web.Request) -> web.Response:
        clauses = parse_query(request.query.get("q", ""))
        drive_id = request.query.get("driveId")
        all_drives = _flag(request, "includeItemsFromAllDrives")
        found = []
        for f in list(self.fake.files.values()):
            if f.id in self.fake.shared_drives or f.unshared:
                continue
            if f.drive_id is not None and not all_drives:
                continue
            if drive_id is not None and f.drive_id != drive_id:
                continue
            if _matches(f, clauses):
                found.append(f.resource())
        found.sort(key=lambda r: str(r["modifiedTime"]))
        return web.json_response({"kind": "drive#fileList", "files": found})

    async def get(self, request: web.Request) -> web.StreamResponse:
        found = self.file(request.match_info["id"])
        if request.query.get("alt") == "media":
            return web.Response(body=found.content, content_type=found.mime_type)
        return web.json_response(found.resource())

    async def delete(self, request: web.Request) -> web.Response:
        found = self.file(request.match_info["id"])
        self.fake.delete_file(found.id)
        return web.Response(status=204)

    async def share(self, request: web.Request) -> web.Response:
        found = self.file(request.match_info["id"])
        body = await request.json()
        email = str(body.get("emailAddress", "")).lower()
        for permission in found.permissions:  # Google keeps one permission per address
            if str(permission.get("emailAddress", "")).lower() == email:
                permission["role"] = body.get("role", permission["role"])
                return web.json_response(permission)
        permission = {"kind": "drive#permission", "id": self.fake.new_id("perm"), **body}
        found.permissions.append(permission)
        found.modified = now_text()
        return web.json_response(permission)

    async def permissions(self, request: web.Request) -> web.Response:
        found = self.file(request.match_info["id"])
        return web.json_response(
            {"kind": "drive#permissionList", "permissions": list(found.permissions)}
        )

    async def unshare(self, request: web.Request) -> web.Response:
        found = self.file(request.match_info["id"])
        wanted = request.match_info["permission"]
        kept = [p for p in found.permissions if p["id"] != wanted]
        if len(kept) == len(found.permissions):
            raise GoogleError(404, "NOT_FOUND", f"Permission not found: {wanted}.", "notFound")
        found.permissions = kept
        found.modified = now_text()
        return web.Response(status=204)


def _no_storage() -> GoogleError:
    return GoogleError(
        403,
        "PERMISSION_DENIED",
        "Service Accounts do not have storage quota. Leverage shared drives.",
        "storageQuotaExceeded",
    )


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() == "true"
