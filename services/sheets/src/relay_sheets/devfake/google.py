"""A local fake of the Google APIs Relay's sheets service calls, served over HTTP so the real
``gspread`` / ``gspread-asyncio`` clients (and google-auth's token refresh) are exercised.

What it serves (the subset gspread 6 and Relay's Google backend call):

- OAuth: ``POST /token`` (JWT-bearer grant of a service account; the assertion's RS256
  signature is checked against the key :meth:`FakeGoogle.service_account_info` generated).
- Drive v3: ``files`` create (folders, spreadsheets, in shared drives: without
  ``supportsAllDrives=true`` a shared-drive parent is 404, outside a shared drive a service
  account gets 403 ``storageQuotaExceeded``), list (``q`` with parents / mimeType / name /
  modifiedTime / trashed clauses), get (metadata or ``alt=media``), delete, multipart upload,
  and ``permissions`` create (one per address, as at Google), list and delete.
- Sheets v4: spreadsheets get (metadata, merges), ``:batchUpdate`` (addSheet, deleteSheet,
  updateSheetProperties, repeatCell (notes and ``userEnteredFormat``, which values writes
  keep), mergeCells, appendDimension), ``values`` get,
  ``values:batchGet`` and ``values:batchUpdate`` (``RAW`` stores text as text,
  ``USER_ENTERED`` turns ``=...`` into a formula).
- Quotas per minute (a sliding window of ``window_s``): Sheets read and write requests per
  user and per project; over them a 429 ``RESOURCE_EXHAUSTED``.
- :attr:`FakeGoogle.log` records every request (for assertions); :meth:`delete_file` and
  :meth:`unshare` make a file 404 / 403; :meth:`fail_next` answers 5xx, :meth:`fail_file`
  answers 5xx for one file only (then it recovers).

The clients reach it through a transport adapter that rewrites Google's hosts (gspread copies
its URLs at import time); see ``relay_sheets.adapters.google_transport``. Served from a thread
of its own by ``relay up --google-fake`` and ``relay demo --google-fake``
(:mod:`relay_sheets.devfake.running`), or alone: ``python -m relay_sheets.devfake``.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from relay_sheets.devfake.drive import DriveApi
from relay_sheets.devfake.model import (
    SHEETS,
    Cell,
    DriveFile,
    GoogleError,
    Spreadsheet,
    column_letters,
    now_text,
    parse_range,
    read_values,
    write_values,
)
from relay_sheets.devfake.sheets import SheetsApi, apply_request

SCOPES = "https://www.googleapis.com/auth/spreadsheets https://www.googleapis.com/auth/drive"


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    user: str
    kind: str  # sheets-read | sheets-write | drive | token
    at: float


@dataclass
class Quotas:
    """Requests per window (``window_s``, 60 as at Google) per user and per project."""

    per_user: int = 60
    per_project: int = 300
    window_s: float = 60.0
    enabled: bool = True


@dataclass
class FakeGoogle:
    quotas: Quotas = field(default_factory=Quotas)
    files: dict[str, DriveFile] = field(default_factory=dict)
    books: dict[str, Spreadsheet] = field(default_factory=dict)
    shared_drives: set[str] = field(default_factory=set)
    log: list[Logged] = field(default_factory=list)
    port: int = 0
    _key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    _tokens: dict[str, str] = field(default_factory=dict)  # token -> client_email
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _recent: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _failures: deque[int] = field(default_factory=deque)
    _targeted_failures: dict[str, deque[int]] = field(default_factory=dict)

    # -- set-up and inspection (tests, demo) -------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}x{self.port}"

    def add_shared_drive(self, name: str = "Relay drive") -> str:
        drive_id = self.new_id("0AD")
        self.shared_drives.add(drive_id)
        self.files[drive_id] = DriveFile(
            drive_id, name, "application/vnd.google-apps.folder", [], drive_id
        )
        return drive_id

    def service_account_info(
        self, email: str = "relay@relay-test.iam.gserviceaccount.com"
    ) -> dict[str, str]:
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": "relay-test",
            "private_key_id": "fake-key-1",
            "private_key": pem,
            "client_email": email,
            "client_id": "1000000000000",
            "token_uri": f"{self.url}/token",
        }

    def write_service_account(self, path: Path) -> Path:
        path.write_text(json.dumps(self.service_account_info()))
        return path

    def fail_next(self, status: int, times: int = 1, api: str | None = None) -> None:
        """The next ``times`` Sheets/Drive requests answer ``status`` (e.g. 500, 503); with
        ``api`` (``sheets`` or ``drive``) only requests to that API."""
        if api is None:
            self._failures.extend([status] * times)
        else:
            self._targeted_failures.setdefault(f"api:{api}", deque()).extend([status] * times)

    def fail_file(self, file_id: str, status: int, times: int = 1) -> None:
        """The next ``times`` requests naming ``file_id`` in their path answer ``status``
        (then it recovers); other files are served as usual."""
        self._targeted_failures.setdefault(file_id, deque()).extend([status] * times)

    def reads_of(self, file_id: str) -> int:
        """Sheets read requests (metadata, values) answered for ``file_id``."""
        return sum(
            1
            for r in self.log
            if r.kind == "sheets-read" and r.status == 200 and f"/{file_id}" in r.path
        )

    def delete_file(self, file_id: str) -> None:
        """The merchant deleted it: every later request for it is a 404."""
        self.files.pop(file_id, None)
        self.books.pop(file_id, None)

    def unshare(self, file_id: str) -> None:
        """The service account lost access: a 403 for it from now on."""
        self.files[file_id].unshared = True

    def children(self, parent: str, mime_type: str | None = None) -> list[DriveFile]:
        return [
            f
            for f in self.files.values()
            if parent in f.parents and (mime_type is None or f.mime_type == mime_type)
        ]

    def find(self, name: str, parent: str | None = None) -> DriveFile | None:
        for f in self.files.values():
            if f.name == name and (parent is None or parent in f.parents):
                return f
        return None

    def values(self, book_id: str, title: str) -> list[list[Any]]:
        """A worksheet's cells as a merchant sees them (unformatted values, trailing blanks
        trimmed; no quota used)."""
        sheet = self.books[book_id].sheet(title)
        return read_values(sheet, parse_range(title), "UNFORMATTED_VALUE")

    def type_cells(self, book_id: str, title: str, a1: str, rows: list[list[Any]]) -> None:
        """The merchant types ``rows`` at ``a1`` (``=...`` becomes a formula; no quota)."""
        book = self.books[book_id]
        write_values(book, parse_range(f"'{title}'!{a1}"), rows, user_entered=True)
        self.files[book_id].modified = now_text()

    def add_note(self, book_id: str, title: str, row: int, col: int, note: str) -> None:
        cells = self.books[book_id].sheet(title).cells
        cells.setdefault((row, col), Cell("")).note = note

    def merchant_requests(self, book_id: str, requests: list[dict[str, Any]]) -> None:
        """The merchant's own ``spreadsheets:batchUpdate`` (e.g. a ``repeatCell`` that colours
        cells or sets a note), applied as the HTTP route applies it (no quota, not logged)."""
        book = self.books[book_id]
        for request in requests:
            apply_request(book, request)

    def cell(self, book_id: str, title: str, row: int, col: int) -> Cell | None:
        """The cell at 0-based (row, col), with its note and format."""
        return self.books[book_id].sheet(title).cells.get((row, col))

    def upload_sheet(
        self, name: str, parent: str, rows: list[list[Any]], title: str = "Sheet1"
    ) -> str:
        """The merchant puts a spreadsheet of ``rows`` into a folder (no quota)."""
        book_id = self.new_id("1up")
        parent_file = self.files[parent]
        self.files[book_id] = DriveFile(book_id, name, SHEETS, [parent], parent_file.drive_id)
        book = Spreadsheet(book_id, name)
        book.add_sheet(title)
        self.books[book_id] = book
        self.type_cells(book_id, title, "A1", rows)
        return book_id

    def requests(self, kind: str | None = None) -> list[Logged]:
        return [r for r in self.log if kind is None or r.kind == kind]

    def max_per_window(
        self,
        kinds: tuple[str, ...] = ("sheets-read", "sheets-write", "drive"),
        window: float = 60.0,
    ) -> int:
        """The most requests (answered or refused) of ``kinds`` in any ``window`` seconds."""
        times = sorted(r.at for r in self.log if r.kind in kinds)
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- serving -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        drive, sheets = DriveApi(self), SheetsApi(self)
        app = web.Application(client_max_size=64 * 1024**2, middlewares=[self._middleware])
        app.router.add_post("/token", self._token)
        drive.add_routes(app.router)
        sheets.add_routes(app.router)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        kind = _kind(request)
        user = "" if kind == "token" else self._tokens.get(_bearer(request), "")
        body = await _body_for_log(request)
        try:
            if kind != "token":
                self._admit(kind, user, request.path)
            response: web.StreamResponse = await handler(request)
        except GoogleError as exc:
            response = web.json_response(exc.body(), status=exc.status)
        query = {k: request.query.getall(k) for k in request.query}
        self.log.append(
            Logged(
                request.method,
                request.path,
                query,
                body,
                response.status,
                user,
                kind,
                time.monotonic(),
            )
        )
        return response

    def _admit(self, kind: str, user: str, path: str) -> None:
        if not user:
            raise GoogleError(401, "UNAUTHENTICATED", "Request is missing a valid access token.")
        api = "api:drive" if kind == "drive" else "api:sheets"
        failing = next(
            (q for f, q in self._targeted_failures.items() if q and (f == api or f"/{f}" in path)),
            None,
        )
        if self._failures or failing:
            status = (failing or self._failures).popleft()
            raise GoogleError(
                status, "UNAVAILABLE" if status == 503 else "INTERNAL", "Backend error."
            )
        if not kind.startswith("sheets") or not self.quotas.enabled:
            return
        bucket = kind.split("-")[1]
        self._count(
            ("user:" + user, bucket),
            self.quotas.per_user,
            f"{bucket.title()} requests per minute per user",
        )
        self._count(
            ("project", bucket), self.quotas.per_project, f"{bucket.title()} requests per minute"
        )

    def _count(self, key: tuple[str, str], limit: int, metric: str) -> None:
        now = time.monotonic()
        recent = self._recent.setdefault(key, deque())
        while recent and now - recent[0] >= self.quotas.window_s:
            recent.popleft()
        if len(recent) >= limit:
            raise GoogleError(
                429,
                "RESOURCE_EXHAUSTED",
                f"Quota exceeded for quota metric '{metric}' of service"
                " 'sheets.googleapis.com' for consumer 'project_number:1000000000000'.",
                "rateLimitExceeded",
            )
        recent.append(now)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        claims = self._verified_claims(str(form.get("assertion", "")))
        if claims is None:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                status=400,
            )
        token = f"ya29.fake-{next(self._ids)}"
        self._tokens[token] = str(claims["iss"])
        return web.json_response(
            {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        )

    def _verified_claims(self, assertion: str) -> dict[str, Any] | None:
        try:
            header, payload, signature = assertion.split(".")
            self._key.public_key().verify(
                _unb64(signature),
                f"{header}.{payload}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims: dict[str, Any] = json.loads(_unb64(payload))
        except Exception:  # noqa: BLE001 - any malformed or forged assertion is refused
            return None
        return claims


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip()


def _kind(request: web.Request) -> str:
    if request.path == "/token":
        return "token"
    if request.path.startswith("/v4/"):
        return "sheets-read" if request.method == "GET" else "sheets-write"
    return "drive"


async def _body_for_log(request: web.Request) -> Any:
    if request.content_type == "application/json" and request.can_read_body:
        try:
            return await request.json()
        except ValueError:
            return None
    return None


def a1(row: int, col: int) -> str:
    """1-based (row, column) as A1."""
    return f"{column_letters(col - 1)}{row}"


@asynccontextmanager
async def fake_google(quotas: Quotas | None = None) -> AsyncIterator[FakeGoogle]:
    """A running fake on a free port."""
    fake = FakeGoogle(quotas=quotas or Quotas())
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.port = server.port or 0
    try:
        yield fake
    finally:
        await server.close()
