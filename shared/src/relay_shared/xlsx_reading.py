"""Reading an XLSX workbook the one way every reader does (normalize's feeds, the channel
listings): which parts are streamed, what a broken workbook raises, the zip directory read
before anything is unpacked, and the text of one cached cell value."""

from __future__ import annotations

import re
import zipfile
import zlib
from datetime import date, datetime, time, timedelta
from typing import IO, Final

#: Parts openpyxl streams in read-only mode (every other part it reads is parsed whole).
STREAMED_PART: Final = re.compile(r"xl/worksheets/[^/]+\.xml")
#: What a broken or hostile workbook raises from openpyxl, zipfile or the XML parser.
BROKEN_WORKBOOK: Final = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ValueError,
    TypeError,
    SyntaxError,
    EOFError,
)


class UnreadableWorkbookError(ValueError):
    """The bytes are no readable zip (the caller names it in its own error)."""


def zip_parts(handle: IO[bytes]) -> list[tuple[str, int]]:
    """Each part's name and declared unpacked size, from the zip's directory alone; the handle
    is rewound. ``UnreadableWorkbookError`` when it is no zip."""
    try:
        with zipfile.ZipFile(handle) as archive:
            return [(info.filename, info.file_size) for info in archive.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableWorkbookError("not a readable XLSX workbook") from exc
    finally:
        handle.seek(0)


def whole_part_bytes(parts: list[tuple[str, int]]) -> int:
    """The unpacked size of the parts openpyxl parses whole (all but the worksheets)."""
    return sum(size for name, size in parts if not STREAMED_PART.fullmatch(name))


def cell_text(value: object) -> str | None:
    """The text of one cached cell value: a whole float as an integer, other floats their
    shortest repr, dates and times ISO, booleans ``true``/``false``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
