"""SKU maps: a CSV ``vendor_sku,sku`` (UTF-8, BOM allowed) or the config's inline entries.

Keys and values are trimmed; keys match exactly (case-sensitive). Several vendor SKUs may map
to one SKU; one vendor SKU mapped to two different SKUs is ``sku_map_conflict``. A map that
cannot be read (undecodable, no ``vendor_sku``/``sku`` headers, a record with an empty key or
value) is ``sku_map_unavailable``. Blank records and exact repeats are ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from relay_normalize.domain.text_cells import trim


class SkuMapError(ValueError):
    """The map cannot be used; ``code`` is the feed failure code, ``value`` the culprit."""

    def __init__(self, code: str, detail: str, value: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.value = value


def parse_sku_map(raw: bytes) -> dict[str, str]:
    """``{vendor_sku: sku}`` from the map CSV's bytes."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkuMapError("sku_map_unavailable", "the map is not UTF-8") from exc
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise SkuMapError("sku_map_unavailable", f"the map is not valid CSV: {exc}") from exc
    if not records:
        raise SkuMapError("sku_map_unavailable", "the map is empty")
    header = [trim(cell).lower() for cell in records[0]]
    if "vendor_sku" not in header or "sku" not in header:
        raise SkuMapError("sku_map_unavailable", "the map needs the headers vendor_sku,sku")
    key_at, value_at = header.index("vendor_sku"), header.index("sku")
    entries: dict[str, str] = {}
    for number, record in enumerate(records[1:], start=2):
        if not any(trim(cell) for cell in record):
            continue
        key = trim(record[key_at]) if key_at < len(record) else ""
        value = trim(record[value_at]) if value_at < len(record) else ""
        if not key or not value:
            raise SkuMapError("sku_map_unavailable", f"line {number} has an empty cell")
        _add(entries, key, value)
    return entries


def check_inline_map(entries: Mapping[str, str]) -> dict[str, str]:
    """Inline entries, trimmed (two keys that trim alike must agree)."""
    result: dict[str, str] = {}
    for key, value in entries.items():
        _add(result, trim(key), trim(value))
    return result


def _add(entries: dict[str, str], key: str, value: str) -> None:
    known = entries.setdefault(key, value)
    if known != value:
        raise SkuMapError("sku_map_conflict", f"{key!r} maps to {known!r} and {value!r}", value=key)
