"""The fake's Sheets v4 routes: spreadsheets get and ``:batchUpdate``, values get,
``values:batchGet`` and ``values:batchUpdate``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from relay_sheets.devfake.model import (
    Cell,
    GoogleError,
    Spreadsheet,
    now_text,
    parse_range,
    read_values,
    write_values,
)

if TYPE_CHECKING:
    from relay_sheets.devfake.google import FakeGoogle


class SheetsApi:
    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake

    def add_routes(self, router: web.UrlDispatcher) -> None:
        # "<id>:batchUpdate", "<id>/values:batchGet" etc. are one path segment each.
        router.add_get("/v4/spreadsheets/{id}/values/{range}", self.values_get)
        router.add_get("/v4/spreadsheets/{id}/{tail}", self.values_batch_get)
        router.add_get("/v4/spreadsheets/{tail}", self.get_any)
        router.add_post("/v4/spreadsheets/{tail}", self.batch_update)
        router.add_post("/v4/spreadsheets/{id}/{tail}", self.values_post)

    def book(self, book_id: str, write: bool = False) -> Spreadsheet:
        self.fake_file(book_id)
        book = self.fake.books.get(book_id)
        if book is None:
            raise GoogleError(404, "NOT_FOUND", "Requested entity was not found.", "notFound")
        if write:
            self.fake.files[book_id].modified = now_text()
        return book

    def fake_file(self, book_id: str) -> None:
        found = self.fake.files.get(book_id)
        if found is None:
            raise GoogleError(404, "NOT_FOUND", "Requested entity was not found.", "notFound")
        if found.unshared:
            raise GoogleError(
                403, "PERMISSION_DENIED", "The caller does not have permission", "forbidden"
            )

    async def get_any(self, request: web.Request) -> web.Response:
        return web.json_response(self.book(request.match_info["tail"]).metadata())

    async def values_get(self, request: web.Request) -> web.Response:
        book = self.book(request.match_info["id"])
        return web.json_response(_value_range(book, request.match_info["range"], _render(request)))

    async def values_batch_get(self, request: web.Request) -> web.Response:
        book_id = request.match_info["id"]
        if request.match_info["tail"] != "values:batchGet":
            raise GoogleError(404, "NOT_FOUND", f"unknown method {request.match_info['tail']}")
        book = self.book(book_id)
        ranges = [
            _value_range(book, r, _render(request)) for r in request.query.getall("ranges", [])
        ]
        return web.json_response({"spreadsheetId": book_id, "valueRanges": ranges})

    async def values_post(self, request: web.Request) -> web.Response:
        book_id, tail = request.match_info["id"], request.match_info["tail"]
        if tail != "values:batchUpdate":
            raise GoogleError(404, "NOT_FOUND", f"unknown method {tail}")
        body = await request.json()
        option = body.get("valueInputOption")
        if option not in ("RAW", "USER_ENTERED"):
            raise GoogleError(400, "INVALID_ARGUMENT", "Invalid valueInputOption", "badRequest")
        book = self.book(book_id, write=True)
        total = 0
        responses = []
        for item in body.get("data", []):
            grid = parse_range(item["range"])
            book.sheet(grid.title)
            cells = write_values(book, grid, item.get("values", []), option == "USER_ENTERED")
            total += cells
            responses.append(
                {"spreadsheetId": book_id, "updatedRange": item["range"], "updatedCells": cells}
            )
        return web.json_response(
            {"spreadsheetId": book_id, "totalUpdatedCells": total, "responses": responses}
        )

    async def batch_update(self, request: web.Request) -> web.Response:
        tail = request.match_info["tail"]
        book_id, _, method = tail.partition(":")
        if method != "batchUpdate":
            raise GoogleError(404, "NOT_FOUND", f"unknown method {tail}")
        body = await request.json()
        book = self.book(book_id, write=True)
        replies = [apply_request(book, one) for one in body.get("requests", [])]
        return web.json_response({"spreadsheetId": book_id, "replies": replies})


def _render(request: web.Request) -> str:
    return request.query.get("valueRenderOption", "FORMATTED_VALUE")


def _value_range(book: Spreadsheet, text: str, render: str) -> dict[str, Any]:
    grid = parse_range(text)
    rows = read_values(book.sheet(grid.title), grid, render)
    out: dict[str, Any] = {"range": text, "majorDimension": "ROWS"}
    if rows:
        out["values"] = rows
    return out


def apply_request(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    ((name, body),) = request.items()
    if name == "addSheet":
        props = body.get("properties", {})
        grid = props.get("gridProperties", {})
        sheet = book.add_sheet(
            props["title"],
            grid.get("rowCount", 1000),
            grid.get("columnCount", 26),
            props.get("sheetId"),
        )
        sheet.frozen_rows = grid.get("frozenRowCount", 0)
        return {"addSheet": {"properties": sheet.properties()}}
    if name == "deleteSheet":
        sheet = book.by_id(body["sheetId"])
        book.sheets.remove(sheet)
        return {}
    if name == "updateSheetProperties":
        props = body["properties"]
        sheet = book.by_id(props["sheetId"])
        sheet.frozen_rows = props.get("gridProperties", {}).get("frozenRowCount", sheet.frozen_rows)
        return {}
    if name == "repeatCell":
        _repeat_cell(book, body)
        return {}
    if name == "mergeCells":
        r = body["range"]
        book.by_id(r["sheetId"]).merges.append(r)
        return {}
    if name == "appendDimension":
        sheet = book.by_id(body["sheetId"])
        if body.get("dimension") == "ROWS":
            book.check_cells(body["length"] * sheet.cols)
            sheet.rows += body["length"]
        else:
            book.check_cells(body["length"] * sheet.rows)
            sheet.cols += body["length"]
        return {}
    raise GoogleError(400, "INVALID_ARGUMENT", f"Unsupported request {name}", "badRequest")


def _repeat_cell(book: Spreadsheet, body: dict[str, Any]) -> None:
    """``cell``'s ``note`` and ``userEnteredFormat`` (merged key by key) on every cell of the
    range; ``fields`` names what is set (``*``: both)."""
    r = body["range"]
    sheet = book.by_id(r["sheetId"])
    fields = body.get("fields", "*")
    given = body.get("cell", {})
    sets_note = fields == "*" or "note" in fields.split(",")
    sets_format = fields == "*" or "userEnteredFormat" in fields
    formatting = given.get("userEnteredFormat", {})
    for row in range(r.get("startRowIndex", 0), r.get("endRowIndex", sheet.rows)):
        for col in range(r.get("startColumnIndex", 0), r.get("endColumnIndex", sheet.cols)):
            cell = sheet.cells.setdefault((row, col), Cell(""))
            if sets_note:
                cell.note = given.get("note")
            if sets_format:
                cell.format = _merged(cell.format, formatting)
                cell.bold = bool(cell.format.get("textFormat", {}).get("bold"))


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = dict(old)
    for key, value in new.items():
        out[key] = _merged(out.get(key, {}), value) if isinstance(value, dict) else value
    return out
